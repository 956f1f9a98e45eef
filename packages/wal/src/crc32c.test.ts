import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32c } from "./crc32c.js";

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bit-at-a-time CRC-32C: the dumb reference the table-driven one must agree with. */
function reference(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe("crc32c", () => {
  it("matches the published check values", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI) B.4 test vectors.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(ascii("The quick brown fox jumps over the lazy dog"))).toBe(0x22620404);
  });

  it("agrees with a bit-at-a-time reference, and chains like one pass", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        expect(crc32c(a)).toBe(reference(a));
        const joined = new Uint8Array([...a, ...b]);
        expect(crc32c(b, crc32c(a))).toBe(crc32c(joined));
        expect(crc32c(joined, 0, a.length)).toBe(crc32c(b));
      }),
    );
  });
});
