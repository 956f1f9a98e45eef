import { describe, expect, it } from "vitest";
import { runReplicatedMap } from "./replicated-map.js";

describe("README example: replicated map", () => {
  it("every member ends with the same 100 keys", () => {
    const maps = runReplicatedMap(100);
    expect(maps).toHaveLength(3);
    for (const m of maps) {
      expect(m.size).toBe(100);
      expect(m.get("key42")).toBe("value42");
      expect([...m]).toEqual([...maps[0]!]);
    }
  });
});
