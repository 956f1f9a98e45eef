import { describe, expect, it } from "vitest";
import { SnapCrcMismatchError, SnapEmptySnapshotError, SnapNoSnapshotError } from "./errors.js";
import { MemWalFs } from "./mem-fs.js";
import { type RaftSnapshot, Snapshotter, snapshotFileName } from "./snapshotter.js";

const DIR = "/data/member/snap";

function snapshot(index: number, term: number, text = `state@${index}`): RaftSnapshot {
  return {
    data: new TextEncoder().encode(text),
    metadata: {
      index,
      term,
      confState: {
        voters: [1n, 2n, 3n],
        learners: [4n],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      },
    },
  };
}

describe("Snapshotter", () => {
  it("saves and loads the newest snapshot", async () => {
    const fs = new MemWalFs();
    const snap = new Snapshotter(DIR, { fs });
    await expect(snap.load()).rejects.toBeInstanceOf(SnapNoSnapshotError);
    await snap.save(snapshot(10, 2));
    await snap.save(snapshot(20, 3));
    await snap.save(snapshot(0, 0)); // empty: not written
    expect(await snap.names()).toEqual([snapshotFileName(3, 20), snapshotFileName(2, 10)]);
    expect(await snap.load()).toEqual(snapshot(20, 3));
    expect(fs.listFiles().some((path) => path.endsWith(".tmp"))).toBe(false);
  });

  it("is durable only through temp file, sync, rename and directory sync", async () => {
    const fs = new MemWalFs();
    const snap = new Snapshotter(DIR, { fs });
    await snap.save(snapshot(5, 1));
    fs.crash();
    expect(await new Snapshotter(DIR, { fs }).load()).toEqual(snapshot(5, 1));
    // A crash before the directory sync can lose the new name, never leave a partial file under it.
    fs.injectFault({ op: "fsyncDir", code: "EIO" });
    await expect(snap.save(snapshot(6, 1))).rejects.toMatchObject({ code: "EIO" });
    fs.crash();
    expect((await new Snapshotter(DIR, { fs }).load()).metadata.index).toBe(5);
    // A crash in the middle of writing leaves only a temp file, which load removes.
    fs.crashAfter(2);
    await expect(snap.save(snapshot(7, 1))).rejects.toMatchObject({ code: "ECRASHED" });
    fs.crash({ random: () => 0.5 });
    expect((await new Snapshotter(DIR, { fs }).load()).metadata.index).toBe(5);
    expect(fs.listFiles().filter((path) => path.endsWith(".tmp"))).toEqual([]);
  });

  it("detects a corrupted file, sets it aside and falls back to an older snapshot", async () => {
    const fs = new MemWalFs();
    const snap = new Snapshotter(DIR, { fs });
    await snap.save(snapshot(10, 2));
    await snap.save(snapshot(20, 2));
    const path = `${DIR}/${snapshotFileName(2, 20)}`;
    fs.flipBit(path, fs.readFile(path).length - 3, 5);
    await expect(snap.read(snapshotFileName(2, 20))).rejects.toBeInstanceOf(SnapCrcMismatchError);
    expect((await snap.load()).metadata.index).toBe(10);
    expect(fs.listFiles()).toContain(`${path}.broken`);
    expect(await snap.names()).toEqual([snapshotFileName(2, 10)]);
  });

  it("detects an empty file", async () => {
    const fs = new MemWalFs();
    fs.writeFile(`${DIR}/${snapshotFileName(1, 1)}`, new Uint8Array(0));
    const snap = new Snapshotter(DIR, { fs });
    await expect(snap.read(snapshotFileName(1, 1))).rejects.toBeInstanceOf(SnapEmptySnapshotError);
    await expect(snap.load()).rejects.toBeInstanceOf(SnapNoSnapshotError);
  });

  it("loads the newest snapshot the WAL has a marker for, and purges old files", async () => {
    const fs = new MemWalFs();
    const snap = new Snapshotter(DIR, { fs });
    for (const index of [10, 20, 30]) await snap.save(snapshot(index, 1));
    const chosen = await snap.loadNewestAvailable([
      { index: 0, term: 0 },
      { index: 10, term: 1 },
      { index: 20, term: 1 },
    ]);
    expect(chosen.metadata.index).toBe(20);
    await expect(snap.loadNewestAvailable([{ index: 30, term: 2 }])).rejects.toBeInstanceOf(
      SnapNoSnapshotError,
    );
    expect(await snap.purge(2)).toEqual([snapshotFileName(1, 10)]);
    expect(await snap.names()).toEqual([snapshotFileName(1, 30), snapshotFileName(1, 20)]);
  });
});
