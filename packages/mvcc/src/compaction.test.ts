import { afterEach, expect, test } from "vitest";
import { ErrCompacted, ErrFutureRevision } from "./errors.js";
import { revisionLowerBound } from "./revision.js";
import { b, StoreHarness } from "./testing/store-harness.js";

const harnesses: StoreHarness[] = [];

async function harness(options: Parameters<typeof StoreHarness.create>[0] = {}): Promise<StoreHarness> {
  const h = await StoreHarness.create(options);
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.destroy();
});

async function storedRevisions(h: StoreHarness): Promise<number> {
  const snapshot = h.level.backend.snapshot();
  try {
    return (await snapshot.scan(revisionLowerBound(0), new Uint8Array([0xff]), 1_000_000)).length;
  } finally {
    await snapshot.close();
  }
}

test("revision rules", async () => {
  const h = await harness();
  await h.put("a", "1");
  await h.put("a", "2"); // rev 3
  await expect(h.compact(4n)).rejects.toBeInstanceOf(ErrFutureRevision);
  await h.compact(3n);
  await expect(h.compact(3n)).rejects.toBeInstanceOf(ErrCompacted);
  await expect(h.compact(2n)).rejects.toThrow("mvcc: required revision has been compacted");
  expect(h.store.compactRevision).toBe(3n);
});

test("keeps the latest revision of each key at or below the compaction revision", async () => {
  const h = await harness({ compactionBatchLimit: 2, compactionIndexChunk: 1 });
  await h.put("a", "1"); // 2
  await h.put("a", "2"); // 3
  await h.put("b", "1"); // 4
  await h.del("b"); // 5
  await h.put("c", "1"); // 6
  await h.del("c"); // 7
  await h.put("a", "3"); // 8
  await h.put("d", "1"); // 9
  expect(await storedRevisions(h)).toBe(8);
  await h.compact(7n);
  // kept: a@3 (latest <= 7), c's tombstone at 7 (deletion at the compaction revision), a@8, d@9.
  expect(await storedRevisions(h)).toBe(4);
  expect(await h.get("a", 7n)).toBe("2");
  expect(await h.get("a")).toBe("3");
  expect(await h.get("b", 7n)).toBeUndefined();
  await expect(h.get("a", 6n)).rejects.toBeInstanceOf(ErrCompacted);
  expect(h.store.lastCompaction?.deletedRevisions).toBe(4);
  const count = await h.range({ key: b("a"), rangeEnd: new Uint8Array([0]), revision: 7n });
  expect(count.count).toBe(1n);
  // A later compaction also drops the tombstone kept at the earlier compaction revision and a@3.
  await h.compact(9n);
  expect(await storedRevisions(h)).toBe(2);
  expect(h.store.keyCount).toBe(2);
});

test("reopen after compaction keeps the compaction and the index", async () => {
  const h = await harness();
  for (let i = 0; i < 20; i++) await h.put(`k${i % 4}`, `v${i}`);
  await h.del("k0");
  await h.compact(15n);
  const index = h.store.describeIndex();
  const hash = await h.store.hashKV(0n);
  await h.reopen();
  expect(h.store.compactRevision).toBe(15n);
  expect(h.store.currentRevision).toBe(22n);
  expect(h.store.describeIndex()).toBe(index);
  expect(await h.store.hashKV(0n)).toEqual(hash);
  await expect(h.get("k1", 14n)).rejects.toBeInstanceOf(ErrCompacted);
  expect(await h.get("k1", 15n)).toBe("v13");
});

test("a compaction scheduled but not finished before a crash resumes on open", async () => {
  const h = await harness();
  for (let i = 0; i < 10; i++) await h.put("k", `v${i}`);
  // Only the scheduling batch is written (as if the process died before the physical deletion).
  await h.level.apply((batch) => h.store.compact(8n, batch));
  expect(await storedRevisions(h)).toBe(10);
  await h.reopen();
  await h.store.close(); // waits for the resumed compaction
  // kept: v6@8 (latest <= 8) and revisions 9..11.
  expect(await storedRevisions(h)).toBe(4);
  await h.reopen();
  expect(h.store.compactRevision).toBe(8n);
  expect(await h.get("k", 8n)).toBe("v6");
});

test("hashKV: equal for equal histories, rejects compacted and future revisions", async () => {
  const one = await harness();
  const two = await harness({ compactionBatchLimit: 1 });
  for (const h of [one, two]) {
    await h.put("a", "1");
    await h.put("b", "2");
    await h.del("a");
    await h.put("a", "3");
  }
  const h1 = await one.store.hashKV(0n);
  expect(h1).toEqual(await two.store.hashKV(0n));
  expect(h1.hashRevision).toBe(5n);
  expect((await one.store.hashKV(3n)).hash).not.toBe(h1.hash);
  await one.compact(4n);
  await two.compact(4n);
  expect(await one.store.hashKV(0n)).toEqual(await two.store.hashKV(0n));
  expect((await one.store.hashKV(0n)).compactRevision).toBe(4n);
  await expect(one.store.hashKV(3n)).rejects.toBeInstanceOf(ErrCompacted);
  await expect(one.store.hashKV(9n)).rejects.toBeInstanceOf(ErrFutureRevision);
  await two.put("c", "x");
  expect((await two.store.hashKV(5n)).hash).toBe((await one.store.hashKV(5n)).hash);
});

test("a reader that started before a compaction still sees its revision", async () => {
  const h = await harness({ compactionBatchLimit: 1 });
  for (let i = 0; i < 50; i++) await h.put(`k${i}`, "old");
  for (let i = 0; i < 50; i++) await h.put(`k${i}`, "new");
  const all = { key: b("k"), rangeEnd: b("l"), revision: 51n };
  const read = h.range(all);
  await h.compact(101n);
  const r = await read;
  expect(r.kvs.length).toBe(50);
  expect(r.kvs.every((kv) => new TextDecoder().decode(kv.value) === "old")).toBe(true);
});
