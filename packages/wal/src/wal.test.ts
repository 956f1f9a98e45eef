import { describe, expect, it } from "vitest";
import {
  WalBusyError,
  WalCorruptError,
  WalExistsError,
  WalFailedError,
  WalFormatError,
  WalIndexGapError,
  WalNotFoundError,
  WalRecordTooLargeError,
  WalSnapshotMismatchError,
  WalSnapshotNotFoundError,
} from "./errors.js";
import { MemWalFs } from "./mem-fs.js";
import type { Entry, HardState } from "./types.js";
import { Wal, type WalOptions } from "./wal.js";

const DIR = "/data/member/wal";
const META = { memberId: 0x8e9e05c52164694dn, clusterId: 0xcdf818194e3a8c32n };

function entry(index: number, term = 1, text = `e${index}`): Entry {
  return { index, term, type: 0, data: new TextEncoder().encode(text) };
}

function entries(from: number, to: number, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

function hs(term: number, commit: number, vote = 1n): HardState {
  return { term, vote, commit };
}

async function reopen(fs: MemWalFs, options: WalOptions = {}, snapshot = { index: 0, term: 0 }) {
  const wal = await Wal.open(DIR, snapshot, { fs, segmentBytes: 4096, ...options });
  const result = await wal.readAll();
  return { wal, ...result };
}

describe("Wal", () => {
  it("round-trips metadata, hard state and entries", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 4096 });
    await wal.save(hs(1, 0), entries(1, 3));
    await wal.save(hs(2, 3, 2n), [entry(4, 2)]);
    await wal.close();

    const { wal: again, metadata, hardState, entries: read } = await reopen(fs);
    expect(metadata).toEqual(META);
    expect(hardState).toEqual(hs(2, 3, 2n));
    expect(read).toEqual([...entries(1, 3), entry(4, 2)]);
    // The reopened log appends after what it read.
    await again.save(undefined, [entry(5, 2)]);
    await again.close();
    expect((await reopen(fs)).entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
  });

  it("refuses to create over an existing log and to open a missing one", async () => {
    const fs = new MemWalFs();
    await (await Wal.create(DIR, META, { fs, segmentBytes: 4096 })).close();
    await expect(Wal.create(DIR, META, { fs, segmentBytes: 4096 })).rejects.toBeInstanceOf(WalExistsError);
    await expect(Wal.open("/elsewhere", { index: 0, term: 0 }, { fs })).rejects.toBeInstanceOf(
      WalNotFoundError,
    );
    expect(await Wal.exists(DIR, { fs })).toBe(true);
    expect(await Wal.exists("/elsewhere", { fs })).toBe(false);
  });

  it("turns N concurrent saves into one write and one fdatasync (group commit)", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 4096 });
    const segment = "0000000000000000-0000000000000000.wal";
    const before = { sync: fs.callsOn("fdatasync", segment), write: fs.callsOn("pwrite", segment) };
    await Promise.all(Array.from({ length: 50 }, (_, i) => wal.save(hs(1, i), [entry(i + 1)])));
    expect(fs.callsOn("fdatasync", segment) - before.sync).toBe(1);
    expect(fs.callsOn("pwrite", segment) - before.write).toBe(1);
    await wal.close();
    const { entries: read, hardState } = await reopen(fs);
    expect(read.map((e) => e.index)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(hardState).toEqual(hs(1, 49));
  });

  it("bounds a group by maxGroupBytes and the queue by maxPendingSaves", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, {
      fs,
      segmentBytes: 4096,
      maxGroupBytes: 200,
      maxPendingSaves: 8,
    });
    const before = fs.counts.fdatasync;
    const saves = Array.from({ length: 8 }, (_, i) => wal.save(undefined, [entry(i + 1, 1, "x".repeat(60))]));
    await expect(wal.save(undefined, [entry(9)])).rejects.toBeInstanceOf(WalBusyError);
    await Promise.all(saves);
    // Each framed entry is ~104 bytes, so a group holds at most one or two of them.
    expect(fs.counts.fdatasync - before).toBeGreaterThanOrEqual(4);
    await wal.close();
  });

  it("rejects an oversized record without writing it", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 4096, maxRecordBytes: 1024 });
    await expect(wal.save(undefined, [entry(1, 1, "x".repeat(2000))])).rejects.toBeInstanceOf(
      WalRecordTooLargeError,
    );
    await wal.save(undefined, [entry(1)]);
    await wal.close();
    expect((await reopen(fs, { maxRecordBytes: 1024 })).entries).toEqual([entry(1)]);
  });

  it("cuts segments and reads across them", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 1024 });
    for (let i = 1; i <= 60; i++) await wal.save(hs(1, i - 1), [entry(i, 1, `entry number ${i}`)]);
    const names = wal.segmentNames;
    expect(names.length).toBeGreaterThan(4);
    expect([...names].sort()).toEqual(names);
    expect(names[0]).toBe("0000000000000000-0000000000000000.wal");
    await wal.close();
    // No temp file is left behind, and every segment is named.
    expect(fs.listFiles().every((path) => path.endsWith(".wal"))).toBe(true);
    const { entries: read, hardState } = await reopen(fs, { segmentBytes: 1024 });
    expect(read).toEqual(Array.from({ length: 60 }, (_, i) => entry(i + 1, 1, `entry number ${i + 1}`)));
    expect(hardState).toEqual(hs(1, 59));
  });

  it("replaces a conflicting tail: an entry at index i discards the entries at >= i", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 512 });
    await wal.save(hs(1, 2), entries(1, 10, 1));
    await wal.save(hs(2, 2), entries(4, 6, 2));
    await wal.close();
    const { wal: w2, entries: read } = await reopen(fs, { segmentBytes: 512 });
    expect(read).toEqual([...entries(1, 3, 1), ...entries(4, 6, 2)]);
    await w2.save(hs(3, 5), entries(6, 7, 3));
    await w2.close();
    expect((await reopen(fs)).entries).toEqual([
      ...entries(1, 3, 1),
      ...entries(4, 5, 2),
      ...entries(6, 7, 3),
    ]);
  });

  it("reads from a snapshot marker, and checks the marker", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 600 });
    await wal.save(hs(1, 10), entries(1, 10));
    await wal.saveSnapshot({ index: 5, term: 1 });
    await wal.save(hs(1, 12), entries(11, 12));
    await wal.close();
    const from5 = await reopen(fs, {}, { index: 5, term: 1 });
    expect(from5.entries.map((e) => e.index)).toEqual([6, 7, 8, 9, 10, 11, 12]);
    await from5.wal.close();
    const mismatch = await Wal.open(DIR, { index: 5, term: 2 }, { fs });
    await expect(mismatch.readAll()).rejects.toBeInstanceOf(WalSnapshotMismatchError);
    const missing = await Wal.open(DIR, { index: 7, term: 1 }, { fs });
    await expect(missing.readAll()).rejects.toBeInstanceOf(WalSnapshotNotFoundError);
  });

  it("releases segments older than a snapshot, keeping retainSegments of them", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 512, retainSegments: 1 });
    for (let i = 1; i <= 40; i++) await wal.save(hs(1, i), [entry(i, 1, "some payload")]);
    await wal.saveSnapshot({ index: 30, term: 1 });
    const before = wal.segmentNames;
    expect(before.length).toBeGreaterThan(4);
    await wal.releaseTo(30);
    const after = wal.segmentNames;
    expect(after.length).toBeLessThan(before.length);
    expect(before.slice(before.length - after.length)).toEqual(after);
    // Exactly one segment older than the one covering index 30 is retained.
    const bases = after.map((name) => Number.parseInt(name.slice(17, 33), 16));
    expect(bases[1]).toBeLessThanOrEqual(30);
    expect(bases[0]).toBeLessThanOrEqual(30);
    expect(bases[2] === undefined || bases[2] > 30 || after.length === 2).toBe(true);
    await wal.save(hs(1, 41), [entry(41)]);
    await wal.close();
    const read = await reopen(fs, {}, { index: 30, term: 1 });
    expect(read.entries.map((e) => e.index)).toEqual([31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41]);
    expect(read.hardState.commit).toBe(41);
    await expect(Wal.open(DIR, { index: 0, term: 0 }, { fs }).then((w) => w.readAll())).rejects.toThrow();
  });

  it("never releases the segment being written", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 512 });
    await wal.save(hs(1, 3), entries(1, 3));
    await wal.releaseTo(1000);
    expect(wal.segmentNames).toEqual(["0000000000000000-0000000000000000.wal"]);
    await wal.close();
  });

  it("stops for good after an fsync failure, without retrying it", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 4096 });
    await wal.save(hs(1, 1), entries(1, 2));
    fs.injectFault({ op: "fdatasync", code: "EIO" });
    const syncs = fs.counts.fdatasync;
    const failing = wal.save(hs(1, 2), [entry(3)]);
    await expect(failing).rejects.toBeInstanceOf(WalFailedError);
    expect(fs.counts.fdatasync - syncs).toBe(1);
    await expect(wal.save(hs(1, 3), [entry(4)])).rejects.toBeInstanceOf(WalFailedError);
    await expect(wal.saveSnapshot({ index: 1, term: 1 })).rejects.toBeInstanceOf(WalFailedError);
    expect(fs.counts.fdatasync - syncs).toBe(1);
    expect(wal.failed?.cause).toMatchObject({ code: "EIO" });
    await wal.close();
    fs.crash();
    const { entries: read } = await reopen(fs);
    expect(read.map((e) => e.index)).toEqual([1, 2]);
  });

  it.each([
    ["a short write", { op: "pwrite" as const, code: "EIO", partialBytes: 40 }],
    ["a full disk", { op: "pwrite" as const, code: "ENOSPC", partialBytes: 24 }],
    ["a failed write", { op: "pwrite" as const, code: "EIO" }],
  ])("stops on %s and keeps what was synced before", async (_name, fault) => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 4096 });
    await wal.save(hs(1, 1), entries(1, 5));
    fs.injectFault(fault);
    const error = await wal.save(hs(1, 6), entries(6, 8)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalFailedError);
    expect((error as WalFailedError).cause).toMatchObject({ code: fault.code });
    await expect(wal.save(undefined, [entry(9)])).rejects.toBeInstanceOf(WalFailedError);
    await wal.close();
    // Reopen both without a crash (the partial write is in the page cache) and after one.
    for (const crashFirst of [false, true]) {
      const copy = fs.clone();
      if (crashFirst) copy.crash();
      const { entries: read, hardState } = await reopen(copy);
      expect(read.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
      expect(hardState).toEqual(hs(1, 1));
    }
  });

  it("stops when the next segment cannot be prepared", async () => {
    const fs = new MemWalFs();
    fs.injectFault({ op: "fdatasync", path: `${DIR}/next.wal.tmp`, code: "ENOSPC" });
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 256 });
    await wal.save(hs(1, 1), entries(1, 4));
    await expect(wal.save(hs(1, 2), [entry(5)])).rejects.toBeInstanceOf(WalFailedError);
    await wal.close();
    expect((await reopen(fs.clone())).entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  it("rejects a directory of another format and a segment with a wrong header", async () => {
    const fs = new MemWalFs();
    fs.writeFile(
      `${DIR}/0000000000000000-0000000000000000.wal`,
      new TextEncoder().encode("etcd v3.5 wal..."),
    );
    await expect(reopen(fs)).rejects.toBeInstanceOf(WalFormatError);

    const other = new MemWalFs();
    other.writeFile(`${DIR}/not-a-segment.wal`, new Uint8Array(64));
    await expect(Wal.open(DIR, { index: 0, term: 0 }, { fs: other })).rejects.toBeInstanceOf(WalFormatError);

    const good = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs: good, segmentBytes: 4096 });
    await wal.save(hs(1, 1), entries(1, 2));
    await wal.close();
    const path = `${DIR}/0000000000000000-0000000000000000.wal`;
    good.flipBit(path, 9, 0); // the version field
    const error = await reopen(good).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalFormatError);
    expect((error as WalFormatError).file).toBe(path);
  });

  it("rejects a missing segment and an index gap between segments", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 512 });
    for (let i = 1; i <= 30; i++) await wal.save(hs(1, i), [entry(i, 1, "payload!")]);
    await wal.close();
    const names = await fs.readdir(DIR);
    expect(names.length).toBeGreaterThan(3);

    const missing = fs.clone();
    await missing.unlink(`${DIR}/${names[1]}`);
    const error = await reopen(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalFormatError);
    expect((error as WalFormatError).reason).toMatch(/sequence gap/);

    // An index gap: renumber the later segments so the sequence looks whole but entries are missing.
    const gap = fs.clone();
    await gap.unlink(`${DIR}/${names[1]}`);
    for (let i = 2; i < names.length; i++) {
      const name = names[i]!;
      const seq = Number.parseInt(name.slice(0, 16), 16) - 1;
      await gap.rename(`${DIR}/${name}`, `${DIR}/${seq.toString(16).padStart(16, "0")}${name.slice(16)}`);
    }
    const gapError = await reopen(gap).catch((e: unknown) => e);
    // Either the chained checksum or the index check catches it; both name the file.
    expect(gapError instanceof WalIndexGapError || gapError instanceof WalCorruptError).toBe(true);
  });
});

describe("Wal.readSnapshotMarkers", () => {
  it("returns the markers at or below the committed index, without changing the log", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 512 });
    await wal.save(hs(1, 5), entries(1, 8));
    await wal.saveSnapshot({ index: 3, term: 1 });
    await wal.saveSnapshot({ index: 5, term: 1 });
    await wal.saveSnapshot({ index: 8, term: 1 }); // not committed yet
    await wal.close();
    const before = fs.listFiles().map((path) => fs.readFile(path));
    const markers = await Wal.readSnapshotMarkers(DIR, { fs, segmentBytes: 512 });
    expect(markers.map((m) => m.index)).toEqual([0, 3, 5]);
    expect(fs.listFiles().map((path) => fs.readFile(path))).toEqual(before);
  });
});

describe("Wal.releaseTo and crashes", () => {
  it("leaves a log that opens at the snapshot when a crash interrupts a release", async () => {
    for (let unlinksBeforeCrash = 0; unlinksBeforeCrash < 4; unlinksBeforeCrash++) {
      const fs = new MemWalFs();
      const wal = await Wal.create(DIR, META, { fs, segmentBytes: 512 });
      for (let i = 1; i <= 40; i++) await wal.save(hs(1, i), [entry(i, 1, "some payload")]);
      await wal.saveSnapshot({ index: 35, term: 1 });
      fs.crashAfter(unlinksBeforeCrash);
      await wal.releaseTo(35).catch(() => undefined);
      await wal.close();
      fs.crash({ random: () => 0.99 });
      const { entries: read, hardState, wal: again } = await reopen(fs, {}, { index: 35, term: 1 });
      expect(read.map((e) => e.index)).toEqual([36, 37, 38, 39, 40]);
      expect(hardState).toEqual(hs(1, 40));
      await again.close();
    }
  });
});

describe("Wal index gaps", () => {
  it("fails with WalIndexGapError when the entries skip indexes after the marker read from", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 4096 });
    await wal.save(hs(1, 3), entries(1, 3));
    // A snapshot from the leader moves the log to index 10; entries continue at 11.
    await wal.saveSnapshot({ index: 10, term: 2 });
    await wal.save(hs(2, 11), entries(11, 12, 2));
    await wal.close();
    expect((await reopen(fs, {}, { index: 10, term: 2 })).entries.map((e) => e.index)).toEqual([11, 12]);
    const error = await reopen(fs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalIndexGapError);
    expect(error).toMatchObject({
      expectedIndex: 4,
      foundIndex: 11,
      message: "wal: slice bounds out of range",
    });
  });
});

describe("Wal observer", () => {
  it("reports group commits with their sync time (injected clock), cuts and tail repairs", async () => {
    const fs = new MemWalFs();
    let now = 1000;
    const events: string[] = [];
    const observer = {
      synced: (e: { syncSeconds: number; saves: number; bytes: number }) =>
        events.push(`synced ${e.saves} saves in ${e.syncSeconds}s`),
      segmentCut: (e: { name: string }) => events.push(`cut ${e.name}`),
      tailRepaired: (e: { offset: number; reason: string }) => events.push(`repaired at ${e.offset}`),
    };
    const clock = () => {
      now += 2;
      return now;
    };
    const wal = await Wal.create(DIR, META, { fs, segmentBytes: 400, observer, clock });
    await Promise.all([wal.save(hs(1, 1), [entry(1)]), wal.save(hs(1, 2), [entry(2)])]);
    expect(events).toEqual(["synced 2 saves in 0.002s"]);
    await wal.save(hs(1, 3), [entry(3, 1, "x".repeat(300))]);
    await wal.close();
    expect(events.slice(1)).toEqual([
      "synced 1 saves in 0.002s",
      "cut 0000000000000001-0000000000000003.wal",
    ]);

    // Tear the last save's write and reopen: the repair is reported.
    const again = await Wal.open(DIR, { index: 0, term: 0 }, { fs, segmentBytes: 400, observer, clock });
    await again.readAll();
    await again.save(hs(1, 4), [entry(4)]);
    await again.close();
    const path = `${DIR}/0000000000000001-0000000000000003.wal`;
    const bytes = fs.readFile(path);
    const end = bytes.findLastIndex((b) => b !== 0) + 1;
    fs.writeFile(path, bytes.slice(0, end - 5));
    events.length = 0;
    const repaired = await Wal.open(DIR, { index: 0, term: 0 }, { fs, segmentBytes: 400, observer, clock });
    expect((await repaired.readAll()).entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^repaired at \d+$/);
    await repaired.close();
  });
});
