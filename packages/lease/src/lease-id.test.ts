import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveLeaseId, formatLeaseId, leaseId } from "./lease-id.js";

describe("lease ids", () => {
  it("derives positive, non-zero, deterministic ids that differ across indexes and attempts", () => {
    const seen = new Set<bigint>();
    for (let index = 0; index < 2000; index++) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const id = deriveLeaseId(index, attempt);
        expect(id).toBeDefined();
        expect(id! > 0n && id! < 1n << 63n).toBe(true);
        expect(deriveLeaseId(index, attempt)).toBe(id);
        seen.add(id!);
      }
    }
    expect(seen.size).toBe(6000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (index) => {
        const id = deriveLeaseId(index, 0);
        return id === undefined || (id > 0n && id < 1n << 63n);
      }),
    );
  });

  it("checks int64 range and rejects 0", () => {
    expect(leaseId(-(1n << 63n))).toBe(-(1n << 63n));
    expect(() => leaseId(0n)).toThrow(/lease id 0/);
    expect(() => leaseId(1n << 63n)).toThrow(/not an int64/);
  });

  it("formats ids as etcdctl does", () => {
    expect(formatLeaseId(leaseId(0x32695410dcc0ca06n))).toBe("32695410dcc0ca06");
    expect(formatLeaseId(leaseId(-1n))).toBe("ffffffffffffffff");
  });
});
