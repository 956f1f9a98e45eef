import {
  RangeRequest_SortOrder as Order,
  RangeRequest_SortTarget as Target,
} from "@etcd-ts/proto/etcdserverpb";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ErrCompacted, ErrFutureRevision, ErrInvalidSortOption } from "./errors.js";
import { prefixEnd } from "./key-range.js";
import { b, StoreHarness, s } from "./testing/store-harness.js";

let h: StoreHarness;

beforeEach(async () => {
  h = await StoreHarness.create();
  // rev 2..7
  await h.put("a", "v-a"); // 2
  await h.put("b", "v-b"); // 3
  await h.put("c", "v-c1"); // 4
  await h.put("c", "v-c2"); // 5
  await h.put("foo/1", "zz"); // 6
  await h.put("foo/2", "aa"); // 7
});

afterEach(async () => {
  await h.destroy();
});

function keys(kvs: { key: Uint8Array }[]): string[] {
  return kvs.map((kv) => s(kv.key));
}

describe("key selection", () => {
  test("single key, missing key", async () => {
    const r = await h.range({ key: b("c") });
    expect(keys(r.kvs)).toEqual(["c"]);
    expect(r.kvs[0]?.version).toBe(2n);
    expect(r.kvs[0]?.createRevision).toBe(4n);
    expect(r.kvs[0]?.modRevision).toBe(5n);
    expect(r.count).toBe(1n);
    expect(r.header?.revision).toBe(7n);
    const missing = await h.range({ key: b("nope") });
    expect(missing.kvs).toEqual([]);
    expect(missing.count).toBe(0n);
  });

  test("range_end is exclusive", async () => {
    expect(keys((await h.range({ key: b("a"), rangeEnd: b("c") })).kvs)).toEqual(["a", "b"]);
    expect(keys((await h.range({ key: b("c"), rangeEnd: b("a") })).kvs)).toEqual([]);
  });

  test('"\\0" range_end means every key >= key', async () => {
    expect(keys((await h.range({ key: b("b"), rangeEnd: new Uint8Array([0]) })).kvs)).toEqual([
      "b",
      "c",
      "foo/1",
      "foo/2",
    ]);
    expect((await h.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) })).count).toBe(5n);
  });

  test("prefix", async () => {
    expect(keys((await h.range({ key: b("foo/"), rangeEnd: prefixEnd(b("foo/")) })).kvs)).toEqual([
      "foo/1",
      "foo/2",
    ]);
  });
});

describe("limit, more, count", () => {
  test("limit cuts and sets more; count ignores limit", async () => {
    const r = await h.range({ key: b("a"), rangeEnd: new Uint8Array([0]), limit: 2n });
    expect(keys(r.kvs)).toEqual(["a", "b"]);
    expect(r.more).toBe(true);
    expect(r.count).toBe(5n);
    const all = await h.range({ key: b("a"), rangeEnd: new Uint8Array([0]), limit: 5n });
    expect(all.more).toBe(false);
    expect(all.kvs.length).toBe(5);
  });

  test("count_only returns the count and no kvs", async () => {
    const r = await h.range({ key: b("a"), rangeEnd: new Uint8Array([0]), countOnly: true });
    expect(r.kvs).toEqual([]);
    expect(r.count).toBe(5n);
    expect(r.more).toBe(false);
  });

  test("keys_only drops values", async () => {
    const r = await h.range({ key: b("a"), rangeEnd: b("c"), keysOnly: true });
    expect(keys(r.kvs)).toEqual(["a", "b"]);
    expect(r.kvs.every((kv) => kv.value.length === 0)).toBe(true);
    expect(r.kvs[0]?.modRevision).toBe(2n);
  });
});

describe("revisions", () => {
  test("historic reads", async () => {
    expect(await h.get("c", 4n)).toBe("v-c1");
    expect(await h.get("c", 5n)).toBe("v-c2");
    expect(await h.get("c", 3n)).toBeUndefined();
    const r = await h.range({ key: b("a"), rangeEnd: new Uint8Array([0]), revision: 3n });
    expect(keys(r.kvs)).toEqual(["a", "b"]);
    expect(r.header?.revision).toBe(7n);
  });

  test("future and compacted revisions fail with etcd's errors", async () => {
    await expect(h.range({ key: b("a"), revision: 8n })).rejects.toThrow(ErrFutureRevision);
    await expect(h.range({ key: b("a"), revision: 8n })).rejects.toThrow(
      "mvcc: required revision is a future revision",
    );
    await h.compact(5n);
    await expect(h.range({ key: b("a"), revision: 4n })).rejects.toThrow(
      "mvcc: required revision has been compacted",
    );
    await expect(h.range({ key: b("a"), revision: 4n })).rejects.toBeInstanceOf(ErrCompacted);
    expect(await h.get("c", 5n)).toBe("v-c2");
    expect(await h.get("a", 5n)).toBe("v-a");
  });
});

describe("sort", () => {
  const all = { key: b("a"), rangeEnd: new Uint8Array([0]) };

  test("by key", async () => {
    expect(keys((await h.range({ ...all, sortOrder: Order.ASCEND })).kvs)).toEqual([
      "a",
      "b",
      "c",
      "foo/1",
      "foo/2",
    ]);
    expect(keys((await h.range({ ...all, sortOrder: Order.DESCEND })).kvs)).toEqual([
      "foo/2",
      "foo/1",
      "c",
      "b",
      "a",
    ]);
  });

  test("by value, version, create, mod", async () => {
    expect(keys((await h.range({ ...all, sortOrder: Order.DESCEND, sortTarget: Target.VALUE })).kvs)).toEqual(
      ["foo/1", "c", "b", "a", "foo/2"],
    );
    expect(
      keys((await h.range({ ...all, sortOrder: Order.DESCEND, sortTarget: Target.VERSION })).kvs)[0],
    ).toBe("c");
    expect(
      keys((await h.range({ ...all, sortOrder: Order.DESCEND, sortTarget: Target.CREATE })).kvs),
    ).toEqual(["foo/2", "foo/1", "c", "b", "a"]);
    expect(keys((await h.range({ ...all, sortOrder: Order.ASCEND, sortTarget: Target.MOD })).kvs)).toEqual([
      "a",
      "b",
      "c",
      "foo/1",
      "foo/2",
    ]);
  });

  test("NONE with a target other than KEY sorts ascending", async () => {
    expect(keys((await h.range({ ...all, sortOrder: Order.NONE, sortTarget: Target.VALUE })).kvs)).toEqual([
      "foo/2",
      "a",
      "b",
      "c",
      "foo/1",
    ]);
  });

  test("sort with limit takes the first of the sorted result", async () => {
    const r = await h.range({ ...all, sortOrder: Order.DESCEND, sortTarget: Target.MOD, limit: 2n });
    expect(keys(r.kvs)).toEqual(["foo/2", "foo/1"]);
    expect(r.more).toBe(true);
    expect(r.count).toBe(5n);
  });

  test("invalid sort values", async () => {
    await expect(h.range({ ...all, sortOrder: 7 as Order })).rejects.toThrow(ErrInvalidSortOption);
  });
});

describe("mod/create revision filters", () => {
  const all = { key: b("a"), rangeEnd: new Uint8Array([0]) };

  test("min/max mod revision", async () => {
    expect(keys((await h.range({ ...all, minModRevision: 5n })).kvs)).toEqual(["c", "foo/1", "foo/2"]);
    expect(keys((await h.range({ ...all, maxModRevision: 3n })).kvs)).toEqual(["a", "b"]);
  });

  test("min/max create revision, count ignores filters, more after filtering", async () => {
    const r = await h.range({ ...all, minCreateRevision: 4n, maxCreateRevision: 6n });
    expect(keys(r.kvs)).toEqual(["c", "foo/1"]);
    expect(r.count).toBe(5n);
    const limited = await h.range({ ...all, minCreateRevision: 4n, limit: 2n });
    expect(keys(limited.kvs)).toEqual(["c", "foo/1"]);
    expect(limited.more).toBe(true);
    const exact = await h.range({ ...all, minCreateRevision: 6n, limit: 2n });
    expect(exact.more).toBe(false);
  });
});
