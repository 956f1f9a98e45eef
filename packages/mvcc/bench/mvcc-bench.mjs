// Benchmark of @etcd-ts/mvcc (not a test). Build first: pnpm --filter @etcd-ts/mvcc build
//   node --expose-gc bench/mvcc-bench.mjs            (BENCH_KEYS=1000000 by default)
// Reports: puts/s and point-ranges/s in-process, the longest writer pause during a compaction of BENCH_KEYS
// revisions, RSS with BENCH_KEYS keys of 256-byte values, and the time to reopen them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { create } from "@bufbuild/protobuf";
import { PutRequestSchema, RangeRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { ClassicLevel } from "classic-level";
import { KvStore, levelBackend, sublevelBatch } from "../dist/index.js";

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const SINGLE_OPS = Number(process.env.BENCH_SINGLE_OPS ?? 50_000);
const VALUE = new Uint8Array(256).fill(0x61);
const key = (i) => new TextEncoder().encode(`key-${String(i).padStart(8, "0")}`);
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

const dir = mkdtempSync(join(tmpdir(), "mvcc-bench-"));
let db;
let sub;
async function openDb() {
  db = new ClassicLevel(dir, { keyEncoding: "view", valueEncoding: "view" });
  sub = db.sublevel("kv", { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  await sub.open();
  return KvStore.open({ backend: levelBackend(sub) });
}

/** One put the way the server applies an entry: execute into a batch, write it, commit. */
async function putOne(store, i, value = VALUE) {
  const batch = db.batch();
  const write = await store.put(create(PutRequestSchema, { key: key(i), value }), sublevelBatch(batch, sub));
  await batch.write();
  store.commit(write);
}

/**
 * Bulk load: many single-put revisions per LevelDB batch. Each put is committed before its batch is written,
 * which is only safe here because nothing reads the previous values meanwhile (fresh or overwritten keys
 * without prev_kv); it keeps loading a million revisions fast.
 */
async function bulkPut(store, from, to, value = VALUE) {
  const PER_BATCH = 2000;
  for (let start = from; start < to; start += PER_BATCH) {
    const batch = db.batch();
    const scoped = sublevelBatch(batch, sub);
    for (let i = start; i < Math.min(to, start + PER_BATCH); i++) {
      const write = await store.put(create(PutRequestSchema, { key: key(i), value }), scoped);
      store.commit(write);
    }
    await batch.write();
  }
}

const results = {};
let store = await openDb();

// 1. puts/s, one batch per put (the apply path).
let t = performance.now();
for (let i = 0; i < SINGLE_OPS; i++) await putOne(store, i);
results.putsPerSecond = Math.round(SINGLE_OPS / ((performance.now() - t) / 1000));

// 2. point ranges/s.
t = performance.now();
for (let i = 0; i < SINGLE_OPS; i++) {
  await store.range(create(RangeRequestSchema, { key: key((i * 7919) % SINGLE_OPS) }));
}
results.pointRangesPerSecond = Math.round(SINGLE_OPS / ((performance.now() - t) / 1000));

// 3. load KEYS keys (bulk) and measure RSS.
t = performance.now();
await bulkPut(store, SINGLE_OPS, KEYS);
results.bulkPutsPerSecond = Math.round((KEYS - SINGLE_OPS) / ((performance.now() - t) / 1000));
globalThis.gc?.();
results.rssWithKeys = mib(process.memoryUsage().rss);
results.heapWithKeys = mib(process.memoryUsage().heapUsed);

// 4. reopen time.
await store.close();
await db.close();
t = performance.now();
store = await openDb();
results.reopenSeconds = ((performance.now() - t) / 1000).toFixed(2);
results.keyCount = store.keyCount;

// 5. overwrite every key once (KEYS more revisions), then compact them away while a writer keeps writing.
await bulkPut(store, 0, KEYS, new Uint8Array(256).fill(0x62));
const compactAt = store.currentRevision;
const pauses = [];
let compactionDone;
let compactionStarted = 0;
const writer = (async () => {
  // The writer applies entries in order like the server; the Compact is one of them.
  for (let i = 0; ; i++) {
    if (i === 10) {
      const batch = db.batch();
      const compaction = store.compact(compactAt, sublevelBatch(batch, sub));
      await batch.write();
      compactionStarted = performance.now();
      compactionDone = store.commitCompaction(compaction).then(() => {
        results.compactionSeconds = ((performance.now() - compactionStarted) / 1000).toFixed(2);
        return true;
      });
    }
    if (compactionDone !== undefined && (await Promise.race([compactionDone, Promise.resolve(false)])))
      return;
    const started = performance.now();
    await putOne(store, KEYS + (i % 1000));
    pauses.push(performance.now() - started);
  }
})();
await writer;
pauses.sort((a, b) => a - b);
results.compactedRevisions = store.lastCompaction?.deletedRevisions;
results.compactionLongestEventLoopHoldMs = store.lastCompaction?.longestPauseMs.toFixed(1);
results.writerPutsDuringCompaction = pauses.length;
results.writerPutLatencyP50Ms = pauses[Math.floor(pauses.length / 2)]?.toFixed(2);
results.writerPutLatencyP99Ms = pauses[Math.floor(pauses.length * 0.99)]?.toFixed(2);
results.writerPutLatencyMaxMs = pauses.at(-1)?.toFixed(2);

await store.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(results, null, 2));
