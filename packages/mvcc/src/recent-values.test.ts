import { create } from "@bufbuild/protobuf";
import { PutRequestSchema, RangeRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { type KeyValue, KeyValueSchema } from "@etcd-ts/proto/mvccpb";
import { afterEach, describe, expect, test } from "vitest";
import type { Backend } from "./backend.js";
import { KvStore } from "./kv-store.js";
import { RecentValues, recentValuesLimits } from "./recent-values.js";
import { b, s } from "./testing/store-harness.js";
import { TempLevel } from "./testing/temp-level.js";

function kv(main: number, value: string | Uint8Array): KeyValue {
  return create(KeyValueSchema, {
    key: b(`k${main}`),
    value: typeof value === "string" ? b(value) : value,
    modRevision: BigInt(main),
    createRevision: BigInt(main),
    version: 1n,
  });
}

describe("RecentValues", () => {
  test("keeps the newest entries within its entry bound, oldest out first", () => {
    const cache = new RecentValues(3, 1 << 20);
    for (let main = 2; main <= 6; main++) cache.add({ main, sub: 0 }, kv(main, "v"));
    expect(cache.size).toBe(3);
    expect(cache.get({ main: 3, sub: 0 })).toBeUndefined();
    expect(cache.get({ main: 4, sub: 0 })?.modRevision).toBe(4n);
    expect(cache.get({ main: 6, sub: 0 })?.modRevision).toBe(6n);
    expect(cache.get({ main: 6, sub: 1 })).toBeUndefined();
  });

  test("keeps its byte bound and skips values too large to cache", () => {
    const cache = new RecentValues(1000, 3000);
    for (let main = 2; main < 12; main++) cache.add({ main, sub: 0 }, kv(main, new Uint8Array(500)));
    expect(cache.bytes).toBeLessThanOrEqual(3000);
    expect(cache.get({ main: 11, sub: 0 })).toBeDefined();
    expect(cache.get({ main: 2, sub: 0 })).toBeUndefined();
    const big = new RecentValues();
    big.add({ main: 2, sub: 0 }, kv(2, new Uint8Array(recentValuesLimits.maxValueBytes + 1)));
    expect(big.size).toBe(0);
  });

  test("entries are frozen: a reader cannot change what later reads see", () => {
    const cache = new RecentValues();
    cache.add({ main: 2, sub: 0 }, kv(2, "v"));
    const entry = cache.get({ main: 2, sub: 0 });
    expect(() => {
      (entry as { value: Uint8Array }).value = b("changed");
    }).toThrow(TypeError);
    expect(s(cache.get({ main: 2, sub: 0 })?.value ?? new Uint8Array())).toBe("v");
  });

  test("keeps its own copy of a value that is a view into a larger buffer (a peer message, a WAL segment)", () => {
    const message = new Uint8Array(1024 * 1024).fill(9);
    const cache = new RecentValues();
    const original = kv(2, message.subarray(100, 116));
    cache.add({ main: 2, sub: 0 }, original);
    const entry = cache.get({ main: 2, sub: 0 });
    expect(entry?.value.buffer.byteLength).toBe(16);
    expect(entry?.value).toEqual(new Uint8Array(16).fill(9));
    expect(Object.isFrozen(original)).toBe(false);
  });

  test("refuses a value whose revision disagrees with its key", () => {
    expect(() => new RecentValues().add({ main: 3, sub: 0 }, kv(2, "v"))).toThrow(/disagree/);
  });
});

describe("KvStore with recent values", () => {
  const levels: TempLevel[] = [];
  afterEach(async () => {
    for (const level of levels.splice(0)) await level.destroy();
  });

  async function openLevel(): Promise<TempLevel> {
    const level = new TempLevel();
    await level.open();
    levels.push(level);
    return level;
  }

  /** counting wraps a backend and counts the values read from it. */
  function counting(backend: Backend): Backend & { reads: number } {
    const wrapped = {
      reads: 0,
      snapshot: () => {
        const snap = backend.snapshot();
        return {
          get: snap.get.bind(snap),
          scan: snap.scan.bind(snap),
          close: snap.close.bind(snap),
          getMany: (keys: readonly Uint8Array[]) => {
            wrapped.reads += keys.length;
            return snap.getMany(keys);
          },
        };
      },
      getManyNow: (keys: readonly Uint8Array[]) => {
        wrapped.reads += keys.length;
        return backend.getManyNow(keys);
      },
      write: backend.write.bind(backend),
    };
    return wrapped;
  }

  async function put(level: TempLevel, store: KvStore, key: string, value: string, prevKv = false) {
    const request = create(PutRequestSchema, { key: b(key), value: b(value), prevKv });
    const write = await level.apply((batch) => store.put(request, batch));
    store.commit(write);
    return write.response;
  }

  test("reads of freshly written keys (range, prev_kv) come from memory, with the right values", async () => {
    const level = await openLevel();
    const backend = counting(level.backend);
    const store = await KvStore.open({ backend });
    await put(level, store, "a", "1");
    await put(level, store, "b", "2");
    const before = backend.reads;
    const range = await store.range(create(RangeRequestSchema, { key: b("a"), rangeEnd: b("c") }));
    expect(range.kvs.map((x) => `${s(x.key)}=${s(x.value)}`)).toEqual(["a=1", "b=2"]);
    const prev = await put(level, store, "a", "3", true);
    expect(s(prev.prevKv?.value ?? new Uint8Array())).toBe("1");
    expect(backend.reads).toBe(before);
  });

  test("a restore forgets the values of the state it replaces", async () => {
    const mine = await openLevel();
    const theirs = await openLevel();
    const store = await KvStore.open({ backend: mine.backend });
    const other = await KvStore.open({ backend: theirs.backend });
    await put(mine, store, "a", "mine");
    await put(theirs, other, "a", "theirs");
    // Both wrote revision 2; after the restore the store must read the restored backend's value.
    await store.restore(theirs.backend);
    const range = await store.range(create(RangeRequestSchema, { key: b("a") }));
    expect(s(range.kvs[0]?.value ?? new Uint8Array())).toBe("theirs");
  });
});
