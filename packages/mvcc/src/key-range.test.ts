import { expect, test } from "vitest";
import { keyFromString, keyToString, prefixEnd, rangeContains, toKeyRange } from "./key-range.js";

const bytes = (...values: number[]) => new Uint8Array(values);

test("prefixEnd follows etcd's GetPrefixRangeEnd", () => {
  expect(prefixEnd(bytes(0x61))).toEqual(bytes(0x62));
  expect(prefixEnd(bytes(0x61, 0xff))).toEqual(bytes(0x62));
  expect(prefixEnd(bytes(0xff, 0xff))).toEqual(bytes(0));
});

test("key ranges: single key, [start, end), everything from key", () => {
  const single = toKeyRange(bytes(0x61), bytes());
  expect(rangeContains(single, "a")).toBe(true);
  expect(rangeContains(single, "a\0")).toBe(false);
  const half = toKeyRange(bytes(0x61), bytes(0x63));
  expect(["a", "b", "bzz", "c"].map((k) => rangeContains(half, k))).toEqual([true, true, true, false]);
  const open = toKeyRange(bytes(0x62), bytes(0));
  expect(["a", "b", "\xff\xff"].map((k) => rangeContains(open, k))).toEqual([false, true, true]);
});

test("binary strings keep byte order and round-trip", () => {
  const keys = [bytes(0), bytes(0x7f), bytes(0x80), bytes(0xff), bytes(0xff, 0)];
  const strings = keys.map(keyToString);
  expect([...strings].sort()).toEqual(strings);
  expect(strings.map(keyFromString)).toEqual(keys);
});
