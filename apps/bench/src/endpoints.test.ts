import { describe, expect, it } from "vitest";
import { parseEndpoints } from "./endpoints.js";
import { UsageError } from "./errors.js";

describe("parseEndpoints", () => {
  it("accepts host:port and http URLs, comma-separated", () => {
    expect(parseEndpoints("127.0.0.1:2379, http://127.0.0.1:22379/")).toEqual([
      "http://127.0.0.1:2379",
      "http://127.0.0.1:22379",
    ]);
  });
  it("rejects an empty list", () => {
    expect(() => parseEndpoints(" , ")).toThrow(UsageError);
  });
});
