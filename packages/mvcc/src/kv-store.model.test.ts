import { Compare_CompareResult, Compare_CompareTarget } from "@etcd-ts/proto/etcdserverpb";
import fc from "fast-check";
import { expect, test } from "vitest";
import { ErrCompacted, ErrFutureRevision } from "./errors.js";
import { b, StoreHarness, s } from "./testing/store-harness.js";

/** The reference model: the whole key space after every revision, in a plain array. */
interface ModelKv {
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: number;
}
type State = Map<string, ModelKv>;

class Model {
  readonly states: State[] = [new Map(), new Map()]; // states[rev]; revision 1 is the empty store
  compacted = 0;

  get current(): number {
    return this.states.length - 1;
  }

  latest(): State {
    return this.states[this.current] ?? new Map();
  }

  /** apply runs writes at one new revision; a write that changes nothing keeps the revision. */
  apply(writes: Write[]): void {
    const next = new Map(this.latest());
    const rev = this.current + 1;
    let changed = false;
    for (const w of writes) {
      if (w.kind === "put") {
        const prev = next.get(w.key);
        next.set(w.key, {
          value: w.value,
          create: prev?.create ?? rev,
          mod: rev,
          version: (prev?.version ?? 0) + 1,
          lease: w.lease,
        });
        changed = true;
      } else {
        for (const key of [...next.keys()]) {
          if (inRange(key, w.key, w.end)) {
            next.delete(key);
            changed = true;
          }
        }
      }
    }
    if (changed) this.states.push(next);
  }
}

function inRange(key: string, start: string, end: string | undefined): boolean {
  if (end === undefined) return key === start;
  if (end === "\0") return key >= start;
  return key >= start && key < end;
}

type Write =
  | { kind: "put"; key: string; value: string; lease: number }
  | { kind: "del"; key: string; end: string | undefined };

type Op =
  | { kind: "write"; write: Write }
  | { kind: "txn"; key: string; version: number; success: Write[]; failure: Write[] }
  | { kind: "compact"; back: number }
  | { kind: "range"; key: string; end: string | undefined; back: number; limit: number }
  | { kind: "reopen" };

const keyArb = fc.constantFrom("a", "b", "c", "d", "e");
const endArb = fc.option(fc.constantFrom("c", "e", "z", "\0"), { nil: undefined });
const putArb: fc.Arbitrary<Write> = fc.record({
  kind: fc.constant("put" as const),
  key: keyArb,
  value: fc.string({ maxLength: 3 }),
  lease: fc.constantFrom(0, 0, 5),
});
const delArb: fc.Arbitrary<Write> = fc.record({
  kind: fc.constant("del" as const),
  key: keyArb,
  end: endArb,
});
/** Txn writes: puts and single-key deletes on distinct keys, so that no branch has a duplicate key. */
const txnWriteArb: fc.Arbitrary<Write> = fc.oneof(
  { arbitrary: putArb, weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant("del" as const), key: keyArb, end: fc.constant(undefined) }),
    weight: 1,
  },
);
const writeArb = fc.oneof({ arbitrary: putArb, weight: 3 }, { arbitrary: delArb, weight: 1 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("write" as const), write: writeArb }), weight: 6 },
  {
    arbitrary: fc.record({
      kind: fc.constant("txn" as const),
      key: keyArb,
      version: fc.nat(3),
      success: fc.uniqueArray(txnWriteArb, { maxLength: 3, selector: (w) => w.key }),
      failure: fc.uniqueArray(txnWriteArb, { maxLength: 3, selector: (w) => w.key }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("compact" as const), back: fc.nat(6) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("range" as const),
      key: keyArb,
      end: endArb,
      back: fc.nat(12),
      limit: fc.nat(3),
    }),
    weight: 4,
  },
  { arbitrary: fc.constant({ kind: "reopen" as const }), weight: 1 },
);

const toOp = (w: Write) =>
  w.kind === "put"
    ? {
        request: {
          case: "requestPut" as const,
          value: { key: b(w.key), value: b(w.value), lease: BigInt(w.lease) },
        },
      }
    : {
        request: {
          case: "requestDeleteRange" as const,
          value: { key: b(w.key), rangeEnd: w.end === undefined ? new Uint8Array(0) : b(w.end) },
        },
      };

async function checkRange(h: StoreHarness, model: Model, op: Extract<Op, { kind: "range" }>): Promise<void> {
  const rev = Math.max(0, model.current - op.back + 2); // sometimes 0 (= latest), sometimes a future revision
  const request = {
    key: b(op.key),
    rangeEnd: op.end === undefined ? new Uint8Array(0) : b(op.end),
    revision: BigInt(rev),
    limit: BigInt(op.limit),
  };
  const atRev = rev === 0 ? model.current : rev;
  if (atRev > model.current) {
    await expect(h.range(request)).rejects.toBeInstanceOf(ErrFutureRevision);
    return;
  }
  if (atRev < model.compacted) {
    await expect(h.range(request)).rejects.toBeInstanceOf(ErrCompacted);
    return;
  }
  const state = model.states[atRev] ?? new Map();
  const expected = [...state.entries()]
    .filter(([key]) => inRange(key, op.key, op.end))
    .sort(([x], [y]) => (x < y ? -1 : 1));
  const response = await h.range(request);
  const limited = op.limit > 0 ? expected.slice(0, op.limit) : expected;
  expect(response.count).toBe(BigInt(expected.length));
  expect(response.more).toBe(op.limit > 0 && expected.length > op.limit);
  expect(
    response.kvs.map((kv) => [
      s(kv.key),
      s(kv.value),
      kv.createRevision,
      kv.modRevision,
      kv.version,
      kv.lease,
    ]),
  ).toEqual(
    limited.map(([key, kv]) => [
      key,
      kv.value,
      BigInt(kv.create),
      BigInt(kv.mod),
      BigInt(kv.version),
      BigInt(kv.lease),
    ]),
  );
  expect(response.header?.revision).toBe(BigInt(model.current));
}

const RUNS = Number(process.env.MVCC_MODEL_RUNS ?? 100);

test(
  "random put/delete/txn/compact/range/reopen agree with a model of every revision",
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const h = await StoreHarness.create({ compactionBatchLimit: 3, compactionIndexChunk: 2 });
        const model = new Model();
        try {
          for (const op of ops) {
            switch (op.kind) {
              case "write":
                if (op.write.kind === "put")
                  await h.put(op.write.key, op.write.value, { lease: BigInt(op.write.lease) });
                else await h.del(op.write.key, op.write.end);
                model.apply([op.write]);
                break;
              case "txn": {
                const current = model.latest().get(op.key)?.version ?? 0;
                const response = await h.txn({
                  compare: [
                    {
                      key: b(op.key),
                      target: Compare_CompareTarget.VERSION,
                      result: Compare_CompareResult.EQUAL,
                      targetUnion: { case: "version", value: BigInt(op.version) },
                    },
                  ],
                  success: op.success.map(toOp),
                  failure: op.failure.map(toOp),
                });
                const succeeded = current === op.version;
                expect(response.succeeded).toBe(succeeded);
                model.apply(succeeded ? op.success : op.failure);
                expect(response.header?.revision).toBe(BigInt(model.current));
                break;
              }
              case "compact": {
                const rev = model.current - op.back;
                if (rev <= model.compacted) {
                  await expect(h.compact(BigInt(rev))).rejects.toBeInstanceOf(ErrCompacted);
                } else {
                  await h.compact(BigInt(rev));
                  model.compacted = rev;
                }
                break;
              }
              case "range":
                await checkRange(h, model, op);
                break;
              case "reopen": {
                const before = h.store.describeIndex();
                const hash = await h.store.hashKV(0n);
                await h.reopen();
                expect(h.store.describeIndex()).toBe(before);
                expect(await h.store.hashKV(0n)).toEqual(hash);
                break;
              }
            }
            expect(h.store.currentRevision).toBe(BigInt(model.current));
          }
          for (let rev = Math.max(model.compacted, 1); rev <= model.current; rev++) {
            await checkRange(h, model, {
              kind: "range",
              key: "\0",
              end: "\0",
              back: model.current + 2 - rev,
              limit: 0,
            });
          }
        } finally {
          await h.destroy();
        }
      }),
      { numRuns: RUNS },
    );
  },
  Math.max(60_000, RUNS * 200),
);

type ConcurrentOp =
  | { kind: "write"; write: Write }
  | { kind: "compact"; back: number }
  | { kind: "read"; back: number };

const concurrentOpArb: fc.Arbitrary<ConcurrentOp> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("write" as const), write: writeArb }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("compact" as const), back: fc.nat(4) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("read" as const), back: fc.nat(8) }), weight: 4 },
);

test(
  "reads issued while writes and background compactions run see exactly their revision",
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(concurrentOpArb, { minLength: 1, maxLength: 60 }), async (ops) => {
        const h = await StoreHarness.create({ compactionBatchLimit: 2, compactionIndexChunk: 1 });
        const model = new Model();
        const pending: Promise<void>[] = [];
        try {
          for (const op of ops) {
            if (op.kind === "write") {
              if (op.write.kind === "put")
                await h.put(op.write.key, op.write.value, { lease: BigInt(op.write.lease) });
              else await h.del(op.write.key, op.write.end);
              model.apply([op.write]);
            } else if (op.kind === "compact") {
              const rev = model.current - op.back;
              if (rev <= model.compacted) continue;
              const compaction = await h.level.apply((batch) => h.store.compact(BigInt(rev), batch));
              // Not awaited: the physical deletion runs while the next ops go on.
              pending.push(h.store.commitCompaction(compaction));
              model.compacted = rev;
            } else {
              const rev = Math.max(1, model.current - op.back);
              const request = {
                key: new Uint8Array([0]),
                rangeEnd: new Uint8Array([0]),
                revision: BigInt(rev),
              };
              if (rev < model.compacted) {
                pending.push(expect(h.range(request)).rejects.toBeInstanceOf(ErrCompacted));
                continue;
              }
              const state = model.states[rev] ?? new Map();
              const expected = [...state.entries()]
                .sort(([x], [y]) => (x < y ? -1 : 1))
                .map(([key, kv]) => [key, kv.value, BigInt(kv.mod)]);
              pending.push(
                h.range(request).then((response) => {
                  expect(response.kvs.map((kv) => [s(kv.key), s(kv.value), kv.modRevision])).toEqual(
                    expected,
                  );
                }),
              );
            }
          }
          await Promise.all(pending);
        } finally {
          await h.destroy();
        }
      }),
      { numRuns: RUNS },
    );
  },
  Math.max(60_000, RUNS * 200),
);
