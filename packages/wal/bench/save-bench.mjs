// Benchmark (not a test): the disk's raw append+fdatasync rate next to Wal.save with 1, 8 and 64 entries
// of 256 bytes per call, from 1 and from 64 concurrent callers. A shared disk's speed drifts, so with one
// caller raw operations and saves alternate one by one (each timed); with 64 callers short slices of the
// raw loop and of the WAL alternate, and the medians and the median ratio are reported.
//
//   pnpm --filter @etcd-ts/wal build && node packages/wal/bench/save-bench.mjs [slice-seconds] [rounds] [dir]
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeWalFs, Wal } from "../dist/index.js";

const sliceSeconds = Number(process.argv[2] ?? 0.5);
const rounds = Number(process.argv[3] ?? 5);
const base = process.argv[4] ?? tmpdir();
const ENTRY_BYTES = 256;
const RAW_FILE_BYTES = 64 * 1024 * 1024;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** slice runs `body(running)` for sliceSeconds and returns its count per second. */
async function slice(body) {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(sliceSeconds * 1e9));
  const count = await body(() => process.hrtime.bigint() < deadline);
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** The raw loop: append a 256-byte record to a zero-filled file, fdatasync, repeat. The disk's limit. */
async function openRaw(dir) {
  const handle = await open(join(dir, "raw.bin"), "w+");
  const zeros = new Uint8Array(1024 * 1024);
  for (let at = 0; at < RAW_FILE_BYTES; at += zeros.length) await handle.write(zeros, 0, zeros.length, at);
  await handle.datasync();
  const record = new Uint8Array(ENTRY_BYTES + 32).fill(7);
  let offset = 0;
  const once = async () => {
    await handle.write(record, 0, record.length, offset);
    await handle.datasync();
    offset = (offset + record.length) % (RAW_FILE_BYTES - record.length);
  };
  return {
    once,
    run: (running) =>
      (async () => {
        let syncs = 0;
        while (running()) {
          await handle.write(record, 0, record.length, offset);
          await handle.datasync();
          offset = (offset + record.length) % (RAW_FILE_BYTES - record.length);
          syncs++;
        }
        return syncs;
      })(),
    close: () => handle.close(),
  };
}

/** CountingFs counts the fdatasync calls of the WAL's files, to show how many entries share one. */
class CountingFs extends NodeWalFs {
  syncs = 0;
  async open(path, options) {
    const handle = await super.open(path, options);
    const fdatasync = handle.fdatasync.bind(handle);
    handle.fdatasync = () => {
      this.syncs++;
      return fdatasync();
    };
    return handle;
  }
}

let walCount = 0;
async function openWal(dir) {
  const fs = new CountingFs();
  const wal = await Wal.create(join(dir, `wal-${walCount++}`), { memberId: 1n, clusterId: 1n }, { fs });
  let saved = 0;
  const data = new Uint8Array(ENTRY_BYTES).fill(42);
  let next = 1;
  return {
    once: async (entriesPerCall) => {
      const batch = [];
      for (let i = 0; i < entriesPerCall; i++) batch.push({ term: 1, index: next++, type: 0, data });
      await wal.save({ term: 1, vote: 1n, commit: 0 }, batch);
      saved += entriesPerCall;
    },
    run: async (running, entriesPerCall, callers) => {
      let entries = 0;
      const caller = async () => {
        while (running()) {
          const batch = [];
          for (let i = 0; i < entriesPerCall; i++) batch.push({ term: 1, index: next++, type: 0, data });
          await wal.save({ term: 1, vote: 1n, commit: 0 }, batch);
          entries += entriesPerCall;
          saved += entriesPerCall;
        }
      };
      await Promise.all(Array.from({ length: callers }, caller));
      return entries;
    },
    /** Entries per fdatasync so far. */
    entriesPerSync: () => saved / fs.syncs,
    close: () => wal.close(),
  };
}

const dir = mkdtempSync(join(base, "wal-bench-"));
try {
  const raw = await openRaw(dir);
  console.log(`node ${process.version}; ${rounds} alternating slices of ${sliceSeconds}s per case; ${dir}`);
  console.log(
    "Wal.save case                  raw syncs/s   WAL entries/s   WAL calls/s   entries/sync   entries/s vs raw syncs/s",
  );
  const cases = process.env.BENCH_CASES
    ? process.env.BENCH_CASES.split(",").map((c) => c.split("x").map(Number))
    : [1, 64].flatMap((callers) => [1, 8, 64].map((entriesPerCall) => [entriesPerCall, callers]));
  for (const [entriesPerCall, callers] of cases) {
    const wal = await openWal(dir);
    const raws = [];
    const wals = [];
    const ratios = [];
    // Warm up both (page cache, writeback of the freshly zero-filled segment); not measured.
    await slice((running) => wal.run(running, entriesPerCall, callers));
    await slice(raw.run);
    if (callers === 1) {
      // One caller: alternate single operations (raw append+sync, then one save), timing each, so both
      // see the same disk at the same moment.
      let rawNs = 0n;
      let walNs = 0n;
      let n = 0;
      const end = process.hrtime.bigint() + BigInt(Math.round(sliceSeconds * rounds * 2 * 1e9));
      while (process.hrtime.bigint() < end) {
        // Swap the order every time, so neither always runs right after the other's sync.
        for (const first of n % 2 === 0 ? ["raw", "wal"] : ["wal", "raw"]) {
          const t0 = process.hrtime.bigint();
          if (first === "raw") await raw.once();
          else await wal.once(entriesPerCall);
          const ns = process.hrtime.bigint() - t0;
          if (first === "raw") rawNs += ns;
          else walNs += ns;
        }
        n++;
      }
      raws.push((n * 1e9) / Number(rawNs));
      wals.push((n * entriesPerCall * 1e9) / Number(walNs));
      ratios.push(wals[0] / raws[0]);
    }
    for (let r = 0; r < (callers === 1 ? 0 : rounds); r++) {
      // Alternate which goes first, so neither always follows the other.
      const runWal = () => slice((running) => wal.run(running, entriesPerCall, callers));
      let rawRate;
      let walRate;
      if (r % 2 === 0) {
        rawRate = await slice(raw.run);
        walRate = await runWal();
      } else {
        walRate = await runWal();
        rawRate = await slice(raw.run);
      }
      raws.push(rawRate);
      wals.push(walRate);
      ratios.push(walRate / rawRate);
    }
    await wal.close();
    const name = `${entriesPerCall} entries x ${callers} callers`;
    console.log(
      `${name.padEnd(30)}${median(raws).toFixed(0).padStart(12)}${median(wals).toFixed(0).padStart(16)}` +
        `${(median(wals) / entriesPerCall).toFixed(0).padStart(14)}${wal.entriesPerSync().toFixed(1).padStart(15)}` +
        `${median(ratios).toFixed(2).padStart(17)}x`,
    );
  }
  await raw.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
