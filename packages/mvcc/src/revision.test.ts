import fc from "fast-check";
import { expect, test } from "vitest";
import { compareRevisions, decodeRevisionKey, encodeRevisionKey } from "./revision.js";

const revisionArb = fc.record({
  main: fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  sub: fc.oneof(fc.nat(10), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
});

test("revision keys round-trip and sort like revisions", () => {
  fc.assert(
    fc.property(revisionArb, revisionArb, fc.boolean(), (a, b, tombstone) => {
      expect(decodeRevisionKey(encodeRevisionKey(a, tombstone))).toEqual({ revision: a, tombstone });
      const order = Buffer.compare(encodeRevisionKey(a), encodeRevisionKey(b));
      expect(Math.sign(order)).toBe(Math.sign(compareRevisions(a, b)));
    }),
  );
});

test("a tombstone key sorts right after the put key of the same revision and before the next", () => {
  const rev = { main: 5, sub: 1 };
  expect(Buffer.compare(encodeRevisionKey(rev), encodeRevisionKey(rev, true))).toBe(-1);
  expect(Buffer.compare(encodeRevisionKey(rev, true), encodeRevisionKey({ main: 5, sub: 2 }))).toBe(-1);
});
