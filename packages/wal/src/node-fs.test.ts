import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WalCorruptError } from "./errors.js";
import { zeroTailOf } from "./fs.js";
import { NodeWalFs } from "./node-fs.js";
import { Snapshotter } from "./snapshotter.js";
import type { Entry } from "./types.js";
import { Wal } from "./wal.js";

/** The same WAL on the real file system (node:fs), in a temp directory. */

const META = { memberId: 11n, clusterId: 22n };
let root = "";

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "etcd-ts-wal-"));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function entry(index: number): Entry {
  return { index, term: 1, type: 0, data: new TextEncoder().encode(`value-${index}`) };
}

describe("Wal on node:fs", () => {
  it("writes, cuts pre-allocated segments, and reads back", async () => {
    const dir = join(root, "member", "wal");
    const options = { fs: new NodeWalFs(), segmentBytes: 1024 };
    const wal = await Wal.create(dir, META, options);
    for (let i = 1; i <= 100; i += 5) {
      await wal.save({ term: 1, vote: 11n, commit: i }, [i, i + 1, i + 2, i + 3, i + 4].map(entry));
    }
    await wal.close();
    const names = readdirSync(dir).sort();
    expect(names.length).toBeGreaterThan(2);
    expect(names.every((name) => /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(name))).toBe(true);
    // Finished segments are trimmed to their data; the tail stays pre-allocated.
    expect(statSync(join(dir, names.at(-1)!)).size).toBe(1024);
    expect(statSync(join(dir, names[0]!)).size).toBeLessThan(1024 + 512);

    const again = await Wal.open(dir, { index: 0, term: 0 }, options);
    const { entries, hardState, metadata } = await again.readAll();
    expect(metadata).toEqual(META);
    expect(hardState).toEqual({ term: 1, vote: 11n, commit: 96 });
    expect(entries.map((e) => e.index)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await again.close();
  });

  it("cuts a torn tail in a real file and reports damage to a synced record", async () => {
    const dir = join(root, "wal");
    const options = { fs: new NodeWalFs(), segmentBytes: 64 * 1024 };
    const wal = await Wal.create(dir, META, options);
    for (let i = 1; i <= 10; i++) await wal.save({ term: 1, vote: 0n, commit: i }, [entry(i)]);
    await wal.close();
    const file = join(dir, readdirSync(dir)[0]!);
    const bytes = readFileSync(file);
    const end = bytes.findLastIndex((b) => b !== 0) + 1;

    // A crash in the middle of the last write: its last 10 bytes never reached the disk.
    const torn = Buffer.from(bytes);
    torn.fill(0, end - 10);
    writeFileSync(file, torn);
    let reopened = await Wal.open(dir, { index: 0, term: 0 }, options);
    expect((await reopened.readAll()).entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await reopened.close();

    // Bit rot in the middle of the log: refuse, do not truncate.
    const rotten = readFileSync(file);
    rotten[200] = rotten[200]! ^ 0x10;
    writeFileSync(file, rotten);
    reopened = await Wal.open(dir, { index: 0, term: 0 }, options);
    await expect(reopened.readAll()).rejects.toBeInstanceOf(WalCorruptError);
    expect(readFileSync(file).equals(rotten)).toBe(true);

    // A file truncated by hand behaves as a torn tail, too.
    writeFileSync(file, bytes);
    truncateSync(file, end - 3);
    reopened = await Wal.open(dir, { index: 0, term: 0 }, options);
    expect((await reopened.readAll()).entries).toHaveLength(9);
    await reopened.close();
  });

  it("writes snapshot files atomically", async () => {
    const dir = join(root, "snap");
    const snapshotter = new Snapshotter(dir, { fs: new NodeWalFs() });
    const snapshot = {
      data: new Uint8Array([1, 2, 3]),
      metadata: {
        index: 42,
        term: 3,
        confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
      },
    };
    await snapshotter.save(snapshot);
    expect(readdirSync(dir)).toEqual(["0000000000000003-000000000000002a.snap"]);
    expect(await snapshotter.load()).toEqual(snapshot);
  });
});

describe("NodeWalFs large reads", () => {
  it("record where the zeros begin, so recovery can skip a segment's pre-allocated rest", async () => {
    const fs = new NodeWalFs();
    const file = await fs.open(join(root, "seg"), { create: true });
    const size = 4 * 1024 * 1024;
    await file.pwrite(new Uint8Array(3000).fill(7), 0);
    await file.pwrite(new Uint8Array([1]), 1_500_000);
    await file.truncate(size);
    const bytes = await file.read(0, size);
    const zeroFrom = zeroTailOf(bytes);
    // At or after the last data byte, within one 64 KiB block of it, and only zeros from there on.
    expect(zeroFrom).toBeGreaterThan(1_500_000);
    expect(zeroFrom).toBeLessThanOrEqual(1_500_000 + 64 * 1024);
    expect(bytes.subarray(zeroFrom).every((b) => b === 0)).toBe(true);
    expect(bytes[1_500_000]).toBe(1);
    // A small read records nothing: the whole buffer counts.
    const small = await file.read(0, 100);
    expect(zeroTailOf(small)).toBe(100);
    await file.close();
  });
});
