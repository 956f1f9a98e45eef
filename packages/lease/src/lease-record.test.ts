import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LeaseCorruptError } from "./errors.js";
import type { LeaseId } from "./lease-id.js";
import { decodeLeaseRecord, encodeLeaseKey, encodeLeaseValue } from "./lease-record.js";

describe("lease records", () => {
  it("round-trip", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).filter((id) => id !== 0n),
        fc.integer({ min: 1, max: 9_000_000_000 }),
        fc.integer({ min: 0, max: 9_000_000_000 }),
        (id, ttlSeconds, remainingTtlSeconds) => {
          const record = { id: id as LeaseId, ttlSeconds, remainingTtlSeconds };
          expect(decodeLeaseRecord(encodeLeaseKey(record.id), encodeLeaseValue(record))).toEqual(record);
        },
      ),
    );
  });

  it("rejects malformed records with a corruption error", () => {
    const id = 5n as LeaseId;
    const value = encodeLeaseValue({ id, ttlSeconds: 10, remainingTtlSeconds: 0 });
    expect(() => decodeLeaseRecord(Uint8Array.of(1), value)).toThrow(LeaseCorruptError);
    expect(() => decodeLeaseRecord(new Uint8Array(8), value)).toThrow(/lease id 0/);
    expect(() => decodeLeaseRecord(encodeLeaseKey(id), value.subarray(1))).toThrow(/bytes/);
    const badVersion = value.slice();
    badVersion[0] = 9;
    expect(() => decodeLeaseRecord(encodeLeaseKey(id), badVersion)).toThrow(/version 9/);
    const huge = value.slice();
    huge.fill(0xff, 1, 9);
    expect(() => decodeLeaseRecord(encodeLeaseKey(id), huge)).toThrow(/impossible TTL/);
  });

  it("decodes from a view into a larger buffer", () => {
    const id = 77n as LeaseId;
    const key = encodeLeaseKey(id);
    const value = encodeLeaseValue({ id, ttlSeconds: 3, remainingTtlSeconds: 2 });
    const big = new Uint8Array(64);
    big.set(key, 3);
    big.set(value, 20);
    expect(decodeLeaseRecord(big.subarray(3, 11), big.subarray(20, 20 + value.length))).toEqual({
      id,
      ttlSeconds: 3,
      remainingTtlSeconds: 2,
    });
  });
});
