import { create } from "@bufbuild/protobuf";
import {
  PutRequestSchema,
  Compare_CompareResult as Result,
  Compare_CompareTarget as Target,
  TxnRequestSchema,
} from "@etcd-ts/proto/etcdserverpb";
import { afterEach, describe, expect, test } from "vitest";
import {
  ErrDuplicateKey,
  ErrKeyNotFound,
  ErrLeaseNotFound,
  ErrLeaseProvided,
  ErrTooManyOps,
  ErrValueProvided,
} from "./errors.js";
import { b, StoreHarness, s } from "./testing/store-harness.js";

const harnesses: StoreHarness[] = [];

async function harness(options: Parameters<typeof StoreHarness.create>[0] = {}): Promise<StoreHarness> {
  const h = await StoreHarness.create(options);
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.destroy();
});

const putOp = (key: string, value: string) => ({
  request: { case: "requestPut" as const, value: { key: b(key), value: b(value) } },
});
const delOp = (key: string, rangeEnd?: string) => ({
  request: {
    case: "requestDeleteRange" as const,
    value: { key: b(key), rangeEnd: rangeEnd === undefined ? new Uint8Array(0) : b(rangeEnd) },
  },
});
const rangeOp = (key: string, rangeEnd?: string) => ({
  request: {
    case: "requestRange" as const,
    value: { key: b(key), rangeEnd: rangeEnd === undefined ? new Uint8Array(0) : b(rangeEnd) },
  },
});

describe("put", () => {
  test("revisions, versions and prev_kv", async () => {
    const h = await harness();
    expect(h.store.currentRevision).toBe(1n);
    const first = await h.put("k", "v1", { prevKv: true });
    expect(first.header?.revision).toBe(2n);
    expect(first.prevKv).toBeUndefined();
    const second = await h.put("k", "v2", { prevKv: true });
    expect(second.header?.revision).toBe(3n);
    expect(s(second.prevKv?.value ?? new Uint8Array())).toBe("v1");
    expect(second.prevKv?.modRevision).toBe(2n);
    const kv = (await h.range({ key: b("k") })).kvs[0];
    expect(kv?.version).toBe(2n);
    expect(kv?.createRevision).toBe(2n);
  });

  test("ignore_value keeps the value, ignore_lease keeps the lease", async () => {
    const h = await harness();
    await h.put("k", "v1", { lease: 7n });
    await h.put("k", "", { ignoreValue: true, lease: 9n });
    let kv = (await h.range({ key: b("k") })).kvs[0];
    expect(s(kv?.value ?? new Uint8Array())).toBe("v1");
    expect(kv?.lease).toBe(9n);
    await h.put("k", "v3", { ignoreLease: true });
    kv = (await h.range({ key: b("k") })).kvs[0];
    expect(s(kv?.value ?? new Uint8Array())).toBe("v3");
    expect(kv?.lease).toBe(9n);
  });

  test("etcd's errors for ignore flags and leases", async () => {
    const h = await harness({ leaseExists: (lease) => lease === 5n });
    await expect(h.put("k", "", { ignoreValue: true })).rejects.toThrow("etcdserver: key not found");
    await expect(h.put("k", "", { ignoreLease: true })).rejects.toBeInstanceOf(ErrKeyNotFound);
    await expect(h.put("k", "x", { ignoreValue: true })).rejects.toThrow(ErrValueProvided);
    await expect(h.put("k", "x", { ignoreLease: true, lease: 5n })).rejects.toThrow(ErrLeaseProvided);
    await expect(h.put("k", "x", { lease: 6n })).rejects.toThrow(ErrLeaseNotFound);
    await expect(h.put("k", "x", { lease: 6n })).rejects.toThrow("etcdserver: requested lease not found");
    expect(h.store.currentRevision).toBe(1n);
    await h.put("k", "x", { lease: 5n });
    expect(h.store.currentRevision).toBe(2n);
  });

  test("lease changes are reported for the lessor", async () => {
    const h = await harness();
    const put = (lease: bigint) =>
      h.level.apply(async (batch) => {
        const write = await h.store.put(
          create(PutRequestSchema, { key: b("k"), value: b("v"), lease }),
          batch,
        );
        h.store.commit(write);
        return write.leaseChanges.map((c) => [s(c.key), c.previousLease, c.lease]);
      });
    expect(await put(1n)).toEqual([["k", 0n, 1n]]);
    expect(await put(1n)).toEqual([]);
    expect(await put(2n)).toEqual([["k", 1n, 2n]]);
    const deleted = await h.level.apply(async (batch) => {
      const write = await h.store.deleteKeys([b("k"), b("missing")], batch);
      h.store.commit(write);
      return write;
    });
    expect(deleted.response.deleted).toBe(1n);
    expect(deleted.leaseChanges.map((c) => [s(c.key), c.previousLease, c.lease])).toEqual([["k", 2n, 0n]]);
  });
});

test("an empty key is rejected", async () => {
  const h = await harness();
  await expect(h.range({ key: new Uint8Array(0) })).rejects.toThrow("etcdserver: key is not provided");
  await expect(h.put("", "v")).rejects.toThrow("etcdserver: key is not provided");
  await expect(h.del("")).rejects.toThrow("etcdserver: key is not provided");
  await expect(h.txn({ success: [rangeOp("")] })).rejects.toThrow("etcdserver: key is not provided");
});

describe("deleteRange", () => {
  test("deleted count, prev_kvs, version reset", async () => {
    const h = await harness();
    await h.put("a", "1");
    await h.put("b", "2");
    await h.put("c", "3");
    const r = await h.del("a", "c", true);
    expect(r.deleted).toBe(2n);
    expect(r.prevKvs.map((kv) => s(kv.key))).toEqual(["a", "b"]);
    expect(r.header?.revision).toBe(5n);
    expect(await h.get("a")).toBeUndefined();
    expect(await h.get("a", 4n)).toBe("1");
    await h.put("a", "again");
    const kv = (await h.range({ key: b("a") })).kvs[0];
    expect(kv?.version).toBe(1n);
    expect(kv?.createRevision).toBe(6n);
  });

  test("deleting nothing keeps the revision", async () => {
    const h = await harness();
    await h.put("a", "1");
    const r = await h.del("zzz");
    expect(r.deleted).toBe(0n);
    expect(r.header?.revision).toBe(2n);
    expect(h.store.currentRevision).toBe(2n);
  });

  test('"\\0" deletes every key >= key', async () => {
    const h = await harness();
    await h.put("a", "1");
    await h.put("b", "2");
    const r = await h.del("b", new Uint8Array([0]));
    expect(r.deleted).toBe(1n);
    expect(await h.get("a")).toBe("1");
  });
});

describe("txn", () => {
  test("compares on every target and result", async () => {
    const h = await harness();
    await h.put("k", "m", { lease: 3n }); // rev 2
    const check = async (target: Target, result: Result, value: { case: string; value: unknown }) => {
      const r = await h.txn({
        compare: [{ key: b("k"), target, result, targetUnion: value as never }],
      });
      return r.succeeded;
    };
    expect(await check(Target.VERSION, Result.EQUAL, { case: "version", value: 1n })).toBe(true);
    expect(await check(Target.VERSION, Result.GREATER, { case: "version", value: 0n })).toBe(true);
    expect(await check(Target.CREATE, Result.LESS, { case: "createRevision", value: 3n })).toBe(true);
    expect(await check(Target.MOD, Result.NOT_EQUAL, { case: "modRevision", value: 2n })).toBe(false);
    expect(await check(Target.VALUE, Result.EQUAL, { case: "value", value: b("m") })).toBe(true);
    expect(await check(Target.VALUE, Result.GREATER, { case: "value", value: b("a") })).toBe(true);
    expect(await check(Target.VALUE, Result.LESS, { case: "value", value: b("a") })).toBe(false);
    expect(await check(Target.LEASE, Result.EQUAL, { case: "lease", value: 3n })).toBe(true);
    expect(h.store.currentRevision).toBe(2n);
  });

  test("missing keys compare as zero, and a value compare on them is false", async () => {
    const h = await harness();
    const r1 = await h.txn({
      compare: [
        {
          key: b("x"),
          target: Target.VERSION,
          result: Result.EQUAL,
          targetUnion: { case: "version", value: 0n },
        },
      ],
    });
    expect(r1.succeeded).toBe(true);
    const r2 = await h.txn({
      compare: [
        {
          key: b("x"),
          target: Target.VALUE,
          result: Result.NOT_EQUAL,
          targetUnion: { case: "value", value: b("q") },
        },
      ],
    });
    expect(r2.succeeded).toBe(false);
  });

  test("a compare with range_end must hold for every key in range", async () => {
    const h = await harness();
    await h.put("p/1", "1");
    await h.put("p/2", "2");
    const compare = (value: bigint) => ({
      key: b("p/"),
      rangeEnd: b("p0"),
      target: Target.CREATE,
      result: Result.LESS,
      targetUnion: { case: "createRevision" as const, value },
    });
    expect((await h.txn({ compare: [compare(4n)] })).succeeded).toBe(true);
    expect((await h.txn({ compare: [compare(3n)] })).succeeded).toBe(false);
  });

  test("ops run at one revision with increasing sub revisions and see earlier ops", async () => {
    const h = await harness();
    await h.put("old", "o");
    const r = await h.txn({
      success: [putOp("a", "1"), putOp("b", "2"), rangeOp("a", "c"), delOp("old"), rangeOp("old")],
    });
    expect(r.succeeded).toBe(true);
    expect(r.header?.revision).toBe(3n);
    const range = r.responses[2]?.response;
    expect(range?.case).toBe("responseRange");
    if (range?.case === "responseRange") {
      expect(range.value.kvs.map((kv) => [s(kv.key), kv.modRevision])).toEqual([
        ["a", 3n],
        ["b", 3n],
      ]);
    }
    const gone = r.responses[4]?.response;
    expect(gone?.case === "responseRange" && gone.value.kvs.length).toBe(0);
    expect(h.store.currentRevision).toBe(3n);
    expect(await h.get("b")).toBe("2");
  });

  test("failure branch and nested txns (compares see the state before the txn)", async () => {
    const h = await harness();
    await h.put("k", "1");
    const r = await h.txn({
      compare: [
        {
          key: b("k"),
          target: Target.VALUE,
          result: Result.EQUAL,
          targetUnion: { case: "value", value: b("2") },
        },
      ],
      success: [putOp("s", "x")],
      failure: [
        putOp("k", "2"),
        {
          request: {
            case: "requestTxn",
            value: {
              compare: [
                {
                  key: b("k"),
                  target: Target.VALUE,
                  result: Result.EQUAL,
                  targetUnion: { case: "value", value: b("1") },
                },
              ],
              success: [putOp("n", "nested")],
            },
          },
        },
      ],
    });
    expect(r.succeeded).toBe(false);
    const nested = r.responses[1]?.response;
    expect(nested?.case === "responseTxn" && nested.value.succeeded).toBe(true);
    expect(await h.get("n")).toBe("nested");
    expect(await h.get("s")).toBeUndefined();
    expect((await h.range({ key: b("n") })).kvs[0]?.modRevision).toBe(3n);
  });

  test("a range in a txn at the starting revision does not see the txn's own writes", async () => {
    const h = await harness();
    await h.put("a", "1"); // 2
    const r = await h.txn({
      success: [
        putOp("a", "2"),
        { request: { case: "requestRange", value: { key: b("a"), revision: 2n } } },
        rangeOp("a"),
      ],
    });
    const old = r.responses[1]?.response;
    const now = r.responses[2]?.response;
    expect(old?.case === "responseRange" && s(old.value.kvs[0]?.value ?? new Uint8Array())).toBe("1");
    expect(now?.case === "responseRange" && s(now.value.kvs[0]?.value ?? new Uint8Array())).toBe("2");
  });

  test("each op's header has the revision as the op saw it; a nested txn's header is empty (as etcd)", async () => {
    const h = await harness();
    await h.put("a", "1"); // 2
    const revisions = (r: Awaited<ReturnType<typeof h.txn>>) =>
      r.responses.map((op) =>
        op.response.case === "responseTxn" ? "nested" : op.response.value?.header?.revision,
      );
    // Before the first write: the revision read at (2); from the first write on: the txn's own (3).
    const r = await h.txn({
      success: [
        rangeOp("a"),
        delOp("missing"),
        putOp("b", "1"),
        rangeOp("a"),
        delOp("missing"),
        { request: { case: "requestTxn", value: { success: [rangeOp("b")] } } },
      ],
    });
    expect(r.header?.revision).toBe(3n);
    expect(revisions(r)).toEqual([2n, 2n, 3n, 3n, 3n, "nested"]);
    const nested = r.responses[5]?.response;
    expect(nested?.case === "responseTxn" && nested.value.header?.revision).toBe(0n);
    const inner = nested?.case === "responseTxn" ? nested.value.responses[0]?.response : undefined;
    expect(inner?.case === "responseRange" && inner.value.header?.revision).toBe(3n);
    // A txn that writes nothing reports the revision it read at everywhere.
    const ro = await h.txn({ success: [rangeOp("a"), delOp("missing")] });
    expect([ro.header?.revision, ...revisions(ro)]).toEqual([3n, 3n, 3n]);
  });

  test("read-only txns keep the revision", async () => {
    const h = await harness();
    await h.put("a", "1");
    const r = await h.txn({ success: [rangeOp("a")] });
    expect(r.header?.revision).toBe(2n);
    expect(h.store.currentRevision).toBe(2n);
  });

  test("duplicate keys", async () => {
    const h = await harness();
    await expect(h.txn({ success: [putOp("a", "1"), putOp("a", "2")] })).rejects.toThrow(
      "etcdserver: duplicate key given in txn request",
    );
    await expect(h.txn({ success: [putOp("b", "1"), delOp("a", "c")] })).rejects.toThrow(ErrDuplicateKey);
    const nested = (ops: ReturnType<typeof putOp>[], failure: ReturnType<typeof putOp>[] = []) => ({
      request: { case: "requestTxn" as const, value: { success: ops, failure } },
    });
    await expect(h.txn({ success: [putOp("a", "1"), nested([putOp("a", "2")])] })).rejects.toThrow(
      ErrDuplicateKey,
    );
    // The two branches of a nested txn exclude each other.
    await h.txn({ success: [nested([putOp("a", "1")], [putOp("a", "2")])] });
    // Deletes may overlap, and success/failure are checked separately.
    await h.txn({ success: [delOp("a", "c"), delOp("b", "d")], failure: [putOp("a", "1")] });
    await h.txn({ success: [putOp("a", "1")], failure: [putOp("a", "1")] });
  });

  test("too many ops", async () => {
    const h = await harness({ maxTxnOps: 2 });
    await expect(h.txn({ success: [putOp("a", "1"), putOp("b", "1"), putOp("c", "1")] })).rejects.toThrow(
      ErrTooManyOps,
    );
    await expect(h.txn({ success: [putOp("a", "1"), putOp("b", "1"), putOp("c", "1")] })).rejects.toThrow(
      "etcdserver: too many operations in txn request",
    );
    await h.txn({ success: [putOp("a", "1"), putOp("b", "1")], failure: [putOp("c", "1")] });
  });

  test("a failing check leaves nothing behind", async () => {
    const h = await harness();
    await h.put("a", "1");
    await expect(
      h.txn({
        success: [
          putOp("b", "1"),
          { request: { case: "requestRange", value: { key: b("a"), revision: 99n } } },
        ],
      }),
    ).rejects.toThrow("mvcc: required revision is a future revision");
    expect(h.store.currentRevision).toBe(2n);
    expect(await h.get("b")).toBeUndefined();
    await h.put("c", "1");
    expect(h.store.currentRevision).toBe(3n);
  });
});

describe("two-step writes", () => {
  test("a write is invisible until committed, and abort drops it", async () => {
    const h = await harness();
    await h.put("a", "1");
    const batch = h.level.db.batch();
    const { sublevelBatch } = await import("./backend.js");
    const write = await h.store.put(
      create(PutRequestSchema, { key: b("a"), value: b("2") }),
      sublevelBatch(batch, h.level.sublevel),
    );
    expect(await h.get("a")).toBe("1");
    await batch.write();
    expect(await h.get("a")).toBe("1");
    expect(h.store.currentRevision).toBe(2n);
    h.store.commit(write);
    expect(await h.get("a")).toBe("2");
    expect(h.store.currentRevision).toBe(3n);

    const batch2 = h.level.db.batch();
    const write2 = await h.store.put(
      create(PutRequestSchema, { key: b("a"), value: b("3") }),
      sublevelBatch(batch2, h.level.sublevel),
    );
    await batch2.close();
    h.store.abort(write2);
    expect(await h.get("a")).toBe("2");
    await h.put("a", "4");
    expect(h.store.currentRevision).toBe(4n);
  });
});

describe("several pending writes in one batch", () => {
  test("each sees the ones before it, readers see none until commit, and they commit in order", async () => {
    const h = await harness();
    await h.put("a", "1");
    const batch = h.level.db.batch();
    const { sublevelBatch } = await import("./backend.js");
    const into = sublevelBatch(batch, h.level.sublevel);
    const w1 = await h.store.put(create(PutRequestSchema, { key: b("a"), value: b("2") }), into);
    const w2 = await h.store.put(
      create(PutRequestSchema, { key: b("a"), value: b("3"), prevKv: true }),
      into,
    );
    const w3 = await h.store.txn(
      create(TxnRequestSchema, {
        compare: [
          {
            key: b("a"),
            target: Target.VALUE,
            result: Result.EQUAL,
            targetUnion: { case: "value", value: b("3") },
          },
        ],
        success: [delOp("a"), putOp("b", "x")],
      }),
      into,
    );
    expect(w1.revision).toBe(3n);
    expect(s(w2.response.prevKv?.value ?? new Uint8Array())).toBe("2");
    expect(w2.response.prevKv?.version).toBe(2n);
    expect(w3.response.succeeded).toBe(true);
    expect(w3.revision).toBe(5n);
    // Nothing is visible before the batch is written and the writes are committed.
    expect(h.store.currentRevision).toBe(2n);
    expect(await h.get("a")).toBe("1");
    expect(await h.get("b")).toBeUndefined();
    await batch.write();
    h.store.commit(w1);
    expect(await h.get("a")).toBe("2");
    h.store.commit(w2);
    h.store.commit(w3);
    expect(h.store.currentRevision).toBe(5n);
    expect(await h.get("a")).toBeUndefined();
    expect(await h.get("b")).toBe("x");
    expect(await h.get("a", 4n)).toBe("3");
    await h.put("a", "4");
    expect((await h.range({ key: b("a") })).kvs[0]?.version).toBe(1n);
  });

  test("abort takes the newest pending write back out of the index", async () => {
    const h = await harness();
    await h.put("a", "1", { lease: 0n });
    const before = h.store.describeIndex();
    const batch = h.level.db.batch();
    const { sublevelBatch } = await import("./backend.js");
    const into = sublevelBatch(batch, h.level.sublevel);
    const w1 = await h.store.put(create(PutRequestSchema, { key: b("a"), value: b("2") }), into);
    const w2 = await h.store.txn(create(TxnRequestSchema, { success: [delOp("a"), putOp("c", "1")] }), into);
    expect(() => h.store.abort(w1)).toThrow(/newest pending/);
    h.store.abort(w2);
    h.store.abort(w1);
    await batch.close();
    expect(h.store.describeIndex()).toBe(before);
    expect(h.store.keyCount).toBe(1);
    await h.put("a", "5");
    expect(h.store.currentRevision).toBe(3n);
    expect((await h.range({ key: b("a") })).kvs[0]?.version).toBe(2n);
  });
});

describe("reopen", () => {
  test("rebuilds the same index and revisions", async () => {
    const h = await harness();
    await h.put("a", "1", { lease: 4n });
    await h.put("b", "1");
    await h.put("a", "2", { lease: 4n });
    await h.del("b");
    await h.put("b", "3");
    await h.txn({ success: [putOp("c", "1"), delOp("a")] });
    const before = h.store.describeIndex();
    await h.reopen();
    expect(h.store.describeIndex()).toBe(before);
    expect(h.store.currentRevision).toBe(7n);
    expect(await h.get("a", 4n)).toBe("2");
    expect(await h.get("a")).toBeUndefined();
    expect((await h.range({ key: b("b") })).kvs[0]?.createRevision).toBe(6n);
    await h.put("d", "1");
    expect(h.store.currentRevision).toBe(8n);
  });
});

test("leasedKeys lists live keys with their lease, also after reopen", async () => {
  const h = await harness();
  await h.put("a", "1", { lease: 5n });
  await h.put("b", "1", { lease: 6n });
  await h.put("c", "1");
  await h.put("b", "2");
  await h.put("d", "1", { lease: 5n });
  await h.del("d");
  const list = () => h.store.leasedKeys().map((k) => [s(k.key), k.lease]);
  expect(list()).toEqual([["a", 5n]]);
  await h.reopen();
  expect(list()).toEqual([["a", 5n]]);
});

describe("readTxn", () => {
  test("runs beside a pending write and sees only committed state", async () => {
    const h = await harness();
    await h.put("a", "1", { lease: 4n });
    const batch = h.level.db.batch();
    const { sublevelBatch } = await import("./backend.js");
    const write = await h.store.put(
      create(PutRequestSchema, { key: b("a"), value: b("2") }),
      sublevelBatch(batch, h.level.sublevel),
    );
    const { TxnRequestSchema } = await import("@etcd-ts/proto/etcdserverpb");
    const request = create(TxnRequestSchema, {
      compare: [
        {
          key: b("a"),
          target: Target.LEASE,
          result: Result.EQUAL,
          targetUnion: { case: "lease", value: 4n },
        },
      ],
      success: [rangeOp("a")],
    });
    const response = await h.store.readTxn(request);
    expect(response.succeeded).toBe(true);
    const range = response.responses[0]?.response;
    expect(range?.case === "responseRange" && s(range.value.kvs[0]?.value ?? new Uint8Array())).toBe("1");
    expect(response.header?.revision).toBe(2n);
    await batch.write();
    h.store.commit(write);
    const after = await h.store.readTxn(request);
    expect(after.succeeded).toBe(false);
    expect(after.header?.revision).toBe(3n);
  });

  test("refuses a txn that writes", async () => {
    const h = await harness();
    const { TxnRequestSchema } = await import("@etcd-ts/proto/etcdserverpb");
    await expect(h.store.readTxn(create(TxnRequestSchema, { failure: [putOp("a", "1")] }))).rejects.toThrow(
      "readTxn of a txn that writes",
    );
  });
});
