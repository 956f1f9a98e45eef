import { describe, expect, it } from "vitest";
import { encodeKey, keyNumber } from "./keys.js";

describe("encodeKey", () => {
  it("writes Go's binary.PutVarint (zig-zag) into a zeroed key", () => {
    expect([...encodeKey(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...encodeKey(1, 4)]).toEqual([2, 0, 0, 0]);
    expect([...encodeKey(-1, 4)]).toEqual([1, 0, 0, 0]);
    expect([...encodeKey(63, 4)]).toEqual([126, 0, 0, 0]);
    expect([...encodeKey(64, 4)]).toEqual([0x80, 0x01, 0, 0]);
    expect([...encodeKey(300, 4)]).toEqual([0xd8, 0x04, 0, 0]);
  });

  it("gives distinct keys for distinct numbers when the key is large enough", () => {
    const seen = new Set<string>();
    for (let n = 0; n < 20000; n++) seen.add(Buffer.from(encodeKey(n, 8)).toString("hex"));
    expect(seen.size).toBe(20000);
  });

  it("truncates to the key size", () => {
    expect(encodeKey(1_000_000, 1)).toHaveLength(1);
  });
});

describe("keyNumber", () => {
  it("is i % space when sequential and in range when random", () => {
    expect(keyNumber(12, 5, true)).toBe(2);
    for (let i = 0; i < 1000; i++) {
      const n = keyNumber(i, 7, false);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(7);
    }
  });
});
