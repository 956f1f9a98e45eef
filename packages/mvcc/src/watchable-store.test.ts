import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  WatchCreateRequest_FilterType as Filter,
  type WatchCreateRequest,
  WatchCreateRequestSchema,
  type WatchResponse,
} from "@etcd-ts/proto/etcdserverpb";
import { Event_EventType } from "@etcd-ts/proto/mvccpb";
import { afterEach, describe, expect, test } from "vitest";
import { prefixEnd } from "./key-range.js";
import { b, StoreHarness, s } from "./testing/store-harness.js";
import type { WatchStream } from "./watch-stream.js";

const harnesses: StoreHarness[] = [];

async function harness(options: Parameters<typeof StoreHarness.create>[0] = {}): Promise<StoreHarness> {
  const h = await StoreHarness.create(options);
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.destroy();
});

function watchRequest(init: MessageInitShape<typeof WatchCreateRequestSchema>): WatchCreateRequest {
  return create(WatchCreateRequestSchema, init);
}

/** drain pulls every response available now (catching up unsynced watchers) without waiting for writes. */
async function drain(stream: WatchStream): Promise<WatchResponse[]> {
  const out: WatchResponse[] = [];
  for (;;) {
    const response = await stream.poll();
    if (response === undefined) return out;
    out.push(response);
  }
}

type Flat = [type: string, key: string, value: string, mod: bigint, prev?: string];

function flatten(responses: WatchResponse[]): Flat[] {
  return responses.flatMap((r) =>
    r.events.map((e): Flat => {
      const kv = e.kv;
      const row: Flat = [
        e.type === Event_EventType.PUT ? "PUT" : "DELETE",
        s(kv?.key ?? new Uint8Array()),
        s(kv?.value ?? new Uint8Array()),
        kv?.modRevision ?? 0n,
      ];
      if (e.prevKv) row.push(s(e.prevKv.value));
      return row;
    }),
  );
}

describe("watch", () => {
  test("created response, then live events of one key", async () => {
    const h = await harness();
    await h.put("a", "0");
    const stream = h.watchable.newWatchStream();
    const id = stream.watch(watchRequest({ key: b("a") }));
    expect(id).toBe(0n);
    const created = await stream.next();
    expect(created?.created).toBe(true);
    expect(created?.header?.revision).toBe(2n);
    await h.put("a", "1");
    await h.put("b", "x");
    await h.del("a");
    const responses = await drain(stream);
    expect(flatten(responses)).toEqual([
      ["PUT", "a", "1", 3n],
      ["DELETE", "a", "", 5n],
    ]);
    expect(responses.map((r) => r.header?.revision)).toEqual([3n, 5n]);
    expect(responses.every((r) => r.watchId === 0n)).toBe(true);
  });

  test("range, prefix and \\0 watches; a txn's events arrive together", async () => {
    const h = await harness();
    const stream = h.watchable.newWatchStream();
    const prefix = stream.watch(watchRequest({ key: b("p/"), rangeEnd: prefixEnd(b("p/")) }));
    const fromKey = stream.watch(watchRequest({ key: b("q"), rangeEnd: new Uint8Array([0]) }));
    await drain(stream);
    await h.txn({
      success: [
        { request: { case: "requestPut", value: { key: b("p/1"), value: b("x") } } },
        { request: { case: "requestPut", value: { key: b("p/2"), value: b("y") } } },
        { request: { case: "requestPut", value: { key: b("z"), value: b("z") } } },
        { request: { case: "requestPut", value: { key: b("a"), value: b("a") } } },
      ],
    });
    const responses = await drain(stream);
    expect(responses.length).toBe(2);
    const byId = new Map(responses.map((r) => [r.watchId, flatten([r])]));
    expect(byId.get(prefix)).toEqual([
      ["PUT", "p/1", "x", 2n],
      ["PUT", "p/2", "y", 2n],
    ]);
    expect(byId.get(fromKey)).toEqual([["PUT", "z", "z", 2n]]);
  });

  test("replay from an old revision, then live events, without gaps or duplicates", async () => {
    const h = await harness({ watchBatchMaxRevisions: 3 });
    for (let i = 0; i < 10; i++) await h.put("k", `v${i}`); // revs 2..11
    const stream = h.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k"), startRevision: 4n }));
    expect(h.watchable.unsyncedCount).toBe(1);
    const first = await drain(stream);
    expect(first[0]?.created).toBe(true);
    const events = first.slice(1);
    // Catch-up responses cover at most 3 revisions each.
    for (const r of events) {
      const mods = r.events.map((e) => Number(e.kv?.modRevision));
      expect(Math.max(...mods) - Math.min(...mods)).toBeLessThan(3);
    }
    expect(h.watchable.unsyncedCount).toBe(0);
    await h.put("k", "live");
    const all = flatten([...events, ...(await drain(stream))]);
    expect(all.map((e) => e[3])).toEqual([4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n]);
    expect(all.at(-1)?.[2]).toBe("live");
  });

  test("a compacted start revision is canceled with the compact revision", async () => {
    const h = await harness();
    for (let i = 0; i < 5; i++) await h.put("k", `v${i}`);
    await h.compact(4n);
    const stream = h.watchable.newWatchStream();
    const id = stream.watch(watchRequest({ key: b("k"), startRevision: 3n }));
    const responses = await drain(stream);
    expect(responses[0]?.created).toBe(true);
    expect(responses[1]?.canceled).toBe(true);
    expect(responses[1]?.watchId).toBe(id);
    expect(responses[1]?.compactRevision).toBe(4n);
    expect(responses[1]?.cancelReason).toBe("etcdserver: mvcc: required revision has been compacted");
    expect(stream.size).toBe(0);
    // The compaction revision itself is still watchable.
    stream.watch(watchRequest({ key: b("k"), startRevision: 4n }));
    expect(flatten(await drain(stream)).map((e) => e[3])).toEqual([4n, 5n, 6n]);
  });

  test("a watcher that falls behind a compaction is canceled", async () => {
    const h = await harness({ maxQueuedResponses: 1 });
    const stream = h.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k") }));
    await h.put("k", "1"); // fills the queue (created response is not counted)
    await h.put("k", "2"); // watcher becomes unsynced at revision 3
    expect(h.watchable.unsyncedCount).toBe(1);
    await h.put("k", "3");
    await h.compact(4n);
    const responses = await drain(stream);
    expect(flatten(responses)).toEqual([["PUT", "k", "1", 2n]]);
    const last = responses.at(-1);
    expect(last?.canceled).toBe(true);
    expect(last?.compactRevision).toBe(4n);
  });

  test("filters NOPUT and NODELETE", async () => {
    const h = await harness();
    const stream = h.watchable.newWatchStream();
    const noPut = stream.watch(watchRequest({ key: b("k"), filters: [Filter.NOPUT] }));
    const noDelete = stream.watch(watchRequest({ key: b("k"), filters: [Filter.NODELETE] }));
    await h.put("k", "1");
    await h.del("k");
    const responses = (await drain(stream)).filter((r) => r.events.length > 0);
    expect(flatten(responses.filter((r) => r.watchId === noPut))).toEqual([["DELETE", "k", "", 3n]]);
    expect(flatten(responses.filter((r) => r.watchId === noDelete))).toEqual([["PUT", "k", "1", 2n]]);
  });

  test("prev_kv on live events and on replay", async () => {
    const h = await harness();
    await h.put("k", "1"); // 2
    const stream = h.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k"), prevKv: true }));
    await h.put("k", "2"); // 3
    await h.del("k"); // 4
    await h.put("k", "3"); // 5
    expect(flatten(await drain(stream))).toEqual([
      ["PUT", "k", "2", 3n, "1"],
      ["DELETE", "k", "", 4n, "2"],
      ["PUT", "k", "3", 5n],
    ]);
    const replay = h.watchable.newWatchStream();
    replay.watch(watchRequest({ key: b("k"), prevKv: true, startRevision: 2n }));
    expect(flatten(await drain(replay))).toEqual([
      ["PUT", "k", "1", 2n],
      ["PUT", "k", "2", 3n, "1"],
      ["DELETE", "k", "", 4n, "2"],
      ["PUT", "k", "3", 5n],
    ]);
    const fromMiddle = h.watchable.newWatchStream();
    fromMiddle.watch(watchRequest({ key: b("k"), prevKv: true, startRevision: 4n }));
    expect(flatten(await drain(fromMiddle))[0]).toEqual(["DELETE", "k", "", 4n, "2"]);
  });

  test("a prev_kv watcher created while a write is running still gets the previous value", async () => {
    const h = await harness();
    await h.put("k", "1");
    const batch = h.level.db.batch();
    const { sublevelBatch } = await import("./backend.js");
    const { PutRequestSchema } = await import("@etcd-ts/proto/etcdserverpb");
    const write = await h.store.put(
      create(PutRequestSchema, { key: b("k"), value: b("2") }),
      sublevelBatch(batch, h.level.sublevel),
    );
    const stream = h.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k"), prevKv: true }));
    await batch.write();
    h.store.commit(write);
    expect(flatten(await drain(stream))).toEqual([["PUT", "k", "2", 3n, "1"]]);
  });

  test("cancel, duplicate ids, progress", async () => {
    const h = await harness();
    await h.put("k", "1");
    const stream = h.watchable.newWatchStream();
    expect(stream.watch(watchRequest({ key: b("k"), watchId: 7n }))).toBe(7n);
    expect(stream.watch(watchRequest({ key: b("k"), watchId: 7n }))).toBe(-1n);
    const responses = await drain(stream);
    expect(responses[1]?.watchId).toBe(-1n);
    expect(responses[1]?.canceled).toBe(true);
    expect(responses[1]?.cancelReason).toBe("mvcc: duplicate watch ID provided on the WatchStream");
    stream.requestProgress();
    const progress = await drain(stream);
    expect(progress).toHaveLength(1);
    expect(progress[0]?.watchId).toBe(-1n);
    expect(progress[0]?.header?.revision).toBe(2n);
    expect(stream.cancel(7n)).toBe(true);
    expect(stream.cancel(7n)).toBe(false);
    const canceled = await drain(stream);
    expect(canceled[0]?.canceled).toBe(true);
    await h.put("k", "2");
    expect(await drain(stream)).toEqual([]);
  });

  test("progress waits until every watcher has caught up", async () => {
    const h = await harness({ watchBatchMaxRevisions: 2 });
    for (let i = 0; i < 6; i++) await h.put("k", `v${i}`);
    const stream = h.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k"), startRevision: 2n }));
    stream.requestProgress();
    const responses = await drain(stream);
    const progressAt = responses.findIndex((r) => r.watchId === -1n);
    expect(progressAt).toBe(responses.length - 1);
    expect(responses[progressAt]?.header?.revision).toBe(7n);
    expect(flatten(responses).length).toBe(6);
  });

  test("a slow consumer does not grow the queue beyond its bound and loses nothing", async () => {
    const h = await harness({ maxQueuedResponses: 2, watchBatchMaxRevisions: 4 });
    const stream = h.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k"), rangeEnd: b("l") }));
    for (let i = 0; i < 30; i++) await h.put(`k${i % 3}`, `v${i}`);
    expect(h.watchable.unsyncedCount).toBe(1);
    const responses = await drain(stream);
    const mods = flatten(responses).map((e) => Number(e[3]));
    expect(mods).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    expect(h.watchable.unsyncedCount).toBe(0);
  });

  test("closing a stream ends next()", async () => {
    const h = await harness();
    const stream = h.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k") }));
    await stream.next();
    const pending = stream.next();
    h.watchable.closeWatchStream(stream);
    expect(await pending).toBeUndefined();
    await h.put("k", "1");
    expect(h.watchable.syncedCount).toBe(0);
  });

  test("for await delivers events as they are committed", async () => {
    const h = await harness();
    const stream = h.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k") }));
    const seen: string[] = [];
    const consumer = (async () => {
      for await (const response of stream) {
        for (const e of response.events) seen.push(s(e.kv?.value ?? new Uint8Array()));
        if (seen.length === 3) return;
      }
    })();
    for (let i = 0; i < 3; i++) await h.put("k", `v${i}`);
    await consumer;
    expect(seen).toEqual(["v0", "v1", "v2"]);
  });
});

describe("restore", () => {
  test("installing another store's state keeps watchers and catches them up", async () => {
    const leader = await harness();
    const follower = await harness();
    await follower.put("k", "1");
    await leader.put("k", "1");
    const stream = follower.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k"), prevKv: true }));
    await drain(stream);
    for (let i = 2; i <= 5; i++) await leader.put("k", `${i}`);
    await follower.watchable.restore(leader.level.backend);
    expect(follower.store.currentRevision).toBe(6n);
    expect(await follower.get("k")).toBe("5");
    expect(follower.store.describeIndex()).toBe(leader.store.describeIndex());
    expect(flatten(await drain(stream))).toEqual([
      ["PUT", "k", "2", 3n, "1"],
      ["PUT", "k", "3", 4n, "2"],
      ["PUT", "k", "4", 5n, "3"],
      ["PUT", "k", "5", 6n, "4"],
    ]);
  });

  test("a watcher whose position is compacted in the installed state is canceled", async () => {
    const leader = await harness();
    const follower = await harness();
    await follower.put("k", "1");
    await leader.put("k", "1");
    const stream = follower.watchable.newWatchStream();
    stream.watch(watchRequest({ key: b("k") }));
    await drain(stream);
    for (let i = 2; i <= 5; i++) await leader.put("k", `${i}`);
    await leader.compact(5n);
    await follower.watchable.restore(leader.level.backend);
    const responses = await drain(stream);
    expect(responses.at(-1)?.canceled).toBe(true);
    expect(responses.at(-1)?.compactRevision).toBe(5n);
  });
});

test("a watcher created with fragment gets large responses in pieces", async () => {
  const h = await harness({ maxResponseBytes: 300 });
  const stream = h.watchable.newWatchStream();
  const whole = stream.watch(watchRequest({ key: b("k"), rangeEnd: b("l") }));
  const pieces = stream.watch(watchRequest({ key: b("k"), rangeEnd: b("l"), fragment: true }));
  await drain(stream);
  const value = "v".repeat(100);
  await h.txn({
    success: [0, 1, 2, 3, 4].map((i) => ({
      request: { case: "requestPut" as const, value: { key: b(`k${i}`), value: b(value) } },
    })),
  });
  const responses = await drain(stream);
  expect(responses.filter((r) => r.watchId === whole)).toHaveLength(1);
  const fragments = responses.filter((r) => r.watchId === pieces);
  expect(fragments.length).toBeGreaterThan(1);
  expect(fragments.map((r) => r.fragment)).toEqual([...fragments.slice(1).map(() => true), false]);
  expect(flatten(fragments).map((e) => e[1])).toEqual(["k0", "k1", "k2", "k3", "k4"]);
});
