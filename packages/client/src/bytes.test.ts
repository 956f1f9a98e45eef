import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareBytes, prefixEnd, toBytes } from "./bytes.js";

describe("prefixEnd", () => {
  it("is the tightest exclusive bound of every key with the prefix (reference: brute force)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        fc.uint8Array({ maxLength: 6 }),
        (prefix, key) => {
          const end = prefixEnd(prefix);
          const hasPrefix =
            key.length >= prefix.length && compareBytes(key.slice(0, prefix.length), prefix) === 0;
          // An all-0xff prefix has no finite bound: its end is "\0", meaning the end of the keyspace.
          const unbounded = prefix.every((b) => b === 0xff);
          const inRange = compareBytes(key, prefix) >= 0 && (unbounded || compareBytes(key, end) < 0);
          if (unbounded) expect(hasPrefix ? inRange : true).toBe(true);
          else expect(inRange).toBe(hasPrefix);
        },
      ),
    );
  });

  it("increments the last byte below 0xff and drops the rest", () => {
    expect(prefixEnd(toBytes("abc"))).toEqual(toBytes("abd"));
    expect(prefixEnd(new Uint8Array([0x61, 0xff, 0xff]))).toEqual(new Uint8Array([0x62]));
    expect(prefixEnd(new Uint8Array([0xff]))).toEqual(new Uint8Array([0]));
  });
});
