import { create } from "@bufbuild/protobuf";
import {
  WatchCreateRequest_FilterType,
  WatchCreateRequestSchema,
  type WatchResponse,
} from "@etcd-ts/proto/etcdserverpb";
import { Event_EventType } from "@etcd-ts/proto/mvccpb";
import fc from "fast-check";
import { expect, test } from "vitest";
import { b, StoreHarness, s } from "./testing/store-harness.js";
import type { WatchStream } from "./watch-stream.js";

/** A model event: what every watcher covering `key` must see at revision `rev`. */
interface ModelEvent {
  rev: number;
  key: string;
  deleted: boolean;
  value: string;
  prev: string | undefined;
}

type Write =
  | { kind: "put"; key: string; value: string }
  | { kind: "del"; key: string; end: string | undefined };

function inRange(key: string, start: string, end: string | undefined): boolean {
  if (end === undefined) return key === start;
  if (end === "\0") return key >= start;
  return key >= start && key < end;
}

/** Model keeps the live keys and every event ever made, by revision. */
class Model {
  live = new Map<string, string>();
  events: ModelEvent[] = [];
  rev = 1;

  apply(writes: Write[]): void {
    const rev = this.rev + 1;
    const made: ModelEvent[] = [];
    for (const w of writes) {
      if (w.kind === "put") {
        made.push({ rev, key: w.key, deleted: false, value: w.value, prev: this.live.get(w.key) });
        this.live.set(w.key, w.value);
      } else {
        for (const key of [...this.live.keys()].sort()) {
          if (!inRange(key, w.key, w.end)) continue;
          made.push({ rev, key, deleted: true, value: "", prev: this.live.get(key) });
          this.live.delete(key);
        }
      }
    }
    if (made.length > 0) {
      this.rev = rev;
      this.events.push(...made);
    }
  }
}

interface WatchSpec {
  key: string;
  end: string | undefined;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  startBack: number;
}

type Action =
  | { kind: "write"; writes: Write[] }
  | { kind: "compact"; back: number }
  | { kind: "pull"; stream: number; count: number }
  | { kind: "reconnect"; stream: number }
  | { kind: "reopen" };

const keyArb = fc.constantFrom("a", "b", "c", "d");
const putArb: fc.Arbitrary<Write> = fc.record({
  kind: fc.constant("put" as const),
  key: keyArb,
  value: fc.string({ maxLength: 2 }),
});
const delArb: fc.Arbitrary<Write> = fc.record({
  kind: fc.constant("del" as const),
  key: keyArb,
  end: fc.option(fc.constantFrom("c", "\0"), { nil: undefined }),
});
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      writes: fc.tuple(putArb).map((t) => [...t]),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      writes: fc.tuple(delArb).map((t) => [...t]),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      writes: fc.uniqueArray(putArb, { minLength: 2, maxLength: 3, selector: (w) => w.key }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("compact" as const), back: fc.nat(8) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("pull" as const),
      stream: fc.nat(2),
      count: fc.integer({ min: 1, max: 4 }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant("reconnect" as const), stream: fc.nat(2) }), weight: 1 },
  { arbitrary: fc.constant({ kind: "reopen" as const }), weight: 1 },
);
const specArb: fc.Arbitrary<WatchSpec> = fc.record({
  key: keyArb,
  end: fc.option(fc.constantFrom("c", "e", "\0"), { nil: undefined }),
  noPut: fc.boolean(),
  noDelete: fc.boolean(),
  prevKv: fc.boolean(),
  startBack: fc.nat(6),
});

interface Received {
  rev: number;
  key: string;
  deleted: boolean;
  value: string;
  prev: string | undefined;
}

/** Segment is one watcher's life on a client: from its start revision to a reconnect or compaction cancel. */
interface Segment {
  start: number;
  cut: "reconnect" | "compacted" | undefined;
  received: Received[];
}

/** Client is one consumer: a stream with one watcher, resuming after reconnects and compaction cancels. */
class Client {
  stream: WatchStream;
  segments: Segment[] = [];
  private lastRev = 0;

  constructor(
    private readonly h: StoreHarness,
    readonly spec: WatchSpec,
    start: number,
  ) {
    this.stream = h.watchable.newWatchStream();
    this.open(start);
  }

  private get segment(): Segment {
    const segment = this.segments.at(-1);
    if (segment === undefined) throw new Error("no segment");
    return segment;
  }

  private open(start: number): void {
    const filters: WatchCreateRequest_FilterType[] = [];
    if (this.spec.noPut) filters.push(WatchCreateRequest_FilterType.NOPUT);
    if (this.spec.noDelete) filters.push(WatchCreateRequest_FilterType.NODELETE);
    // start_revision 0 means "from the next revision".
    const from = start === 0 ? Number(this.h.store.currentRevision) + 1 : start;
    this.segments.push({ start: from, cut: undefined, received: [] });
    this.stream.watch(
      create(WatchCreateRequestSchema, {
        key: b(this.spec.key),
        rangeEnd: this.spec.end === undefined ? new Uint8Array(0) : b(this.spec.end),
        startRevision: BigInt(start),
        filters,
        prevKv: this.spec.prevKv,
      }),
    );
  }

  private take(response: WatchResponse): void {
    if (response.canceled && response.compactRevision > 0n) {
      // Compacted: a real client would re-list; we resume at the compaction revision.
      this.segment.cut = "compacted";
      this.open(Number(response.compactRevision));
      return;
    }
    const revs = new Set<number>();
    for (const e of response.events) {
      const rev = Number(e.kv?.modRevision ?? 0n);
      revs.add(rev);
      expect(rev).toBeGreaterThanOrEqual(this.lastRev); // ordered
      this.lastRev = rev;
      this.segment.received.push({
        rev,
        key: s(e.kv?.key ?? new Uint8Array()),
        deleted: e.type === Event_EventType.DELETE,
        value: s(e.kv?.value ?? new Uint8Array()),
        prev: e.prevKv ? s(e.prevKv.value) : undefined,
      });
    }
    // Atomic: a response holds whole revisions, so the next response starts at a later revision.
    this.lastRev += revs.size > 0 ? 1 : 0;
  }

  async pull(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const response = await this.stream.poll();
      if (response === undefined) return;
      this.take(response);
    }
  }

  async drain(): Promise<void> {
    for (;;) {
      const response = await this.stream.poll();
      if (response === undefined) return;
      this.take(response);
    }
  }

  /** reconnect drops the stream (its queued responses are lost) and resumes after the last event seen. */
  reconnect(): void {
    this.h.watchable.closeWatchStream(this.stream);
    this.stream = this.h.watchable.newWatchStream();
    const segment = this.segment;
    segment.cut = "reconnect";
    const last = segment.received.at(-1)?.rev;
    this.lastRev = last === undefined ? 0 : last;
    this.open(last === undefined ? segment.start : last + 1);
  }
}

function check(model: Model, client: Client, finalCompact: number): void {
  const { spec } = client;
  const matching = model.events.filter(
    (e) => inRange(e.key, spec.key, spec.end) && !(e.deleted ? spec.noDelete : spec.noPut),
  );
  const row = (e: ModelEvent | Received) => [e.rev, e.key, e.deleted, e.value];
  for (const segment of client.segments) {
    const expected = matching.filter((e) => e.rev >= segment.start);
    const got = segment.received;
    if (segment.cut === undefined) {
      // The live segment is complete: reliable, no gap, no duplicate.
      expect(got.map(row)).toEqual(expected.map(row));
    } else {
      // A cut segment delivered a prefix of its history (the rest comes in the next segment).
      expect(got.map(row)).toEqual(expected.slice(0, got.length).map(row));
    }
    if (!spec.prevKv) continue;
    got.forEach((r, i) => {
      const want = expected[i]?.prev;
      if (r.prev !== undefined) expect(r.prev).toBe(want);
      else if (want !== undefined) expect(r.rev - 1).toBeLessThan(finalCompact);
    });
  }
}

const RUNS = Number(process.env.MVCC_WATCH_RUNS ?? 60);

test(
  "watchers with slow consumers, reconnects and compactions see ordered, unique, complete histories",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 3, maxLength: 3 }),
        fc.array(actionArb, { minLength: 5, maxLength: 50 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        async (specs, actions, maxQueuedResponses, watchBatchMaxRevisions, watchBatchMaxEvents) => {
          const h = await StoreHarness.create({
            maxQueuedResponses,
            watchBatchMaxRevisions,
            watchBatchMaxEvents,
          });
          const model = new Model();
          let compacted = 0;
          try {
            for (const key of ["a", "b", "c", "d", "a"]) {
              await h.put(key, `init-${key}`);
              model.apply([{ kind: "put", key, value: `init-${key}` }]);
            }
            const clients = specs.map((spec) => new Client(h, spec, Math.max(0, model.rev - spec.startBack)));
            for (const action of actions) {
              switch (action.kind) {
                case "write": {
                  if (action.writes.length === 1) {
                    const w = action.writes[0];
                    if (w?.kind === "put") await h.put(w.key, w.value);
                    else if (w?.kind === "del") await h.del(w.key, w.end);
                  } else {
                    await h.txn({
                      success: action.writes.map((w) => ({
                        request: {
                          case: "requestPut" as const,
                          value: { key: b(w.key), value: b(w.kind === "put" ? w.value : "") },
                        },
                      })),
                    });
                  }
                  model.apply(action.writes);
                  break;
                }
                case "compact": {
                  const rev = model.rev - action.back;
                  if (rev > compacted) {
                    await h.compact(BigInt(rev));
                    compacted = rev;
                  }
                  break;
                }
                case "pull":
                  await clients[action.stream]?.pull(action.count);
                  break;
                case "reconnect":
                  clients[action.stream]?.reconnect();
                  break;
                case "reopen":
                  // A restart closes every stream; the clients resume on the reopened store.
                  await h.reopen();
                  for (const client of clients) client.reconnect();
                  break;
              }
            }
            for (const client of clients) await client.drain();
            for (const client of clients) check(model, client, compacted);
            expect(h.watchable.unsyncedCount).toBe(0);
          } finally {
            await h.destroy();
          }
        },
      ),
      { numRuns: RUNS },
    );
  },
  Math.max(60_000, RUNS * 200),
);
