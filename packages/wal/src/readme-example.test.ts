import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { Snapshotter, Wal, WalCorruptError } from "./index.js";

// The example from README.md, kept runnable here (imports from "./index.js" instead of "@etcd-ts/wal").
it("runs the README example", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "wal-example-"));
  const logs: string[] = [];
  const log = (...args: unknown[]): void => {
    logs.push(args.map(String).join(" "));
  };
  try {
    // --- README example start ---
    const walDir = join(dataDir, "member", "wal");
    const meta = { memberId: 0x8e9e05c52164694dn, clusterId: 0xcdf818194e3a8c32n };

    // A new member: create the log, then persist each Ready (entries + hard state, one fdatasync).
    const wal = await Wal.create(walDir, meta);
    const data = new TextEncoder().encode("put foo bar");
    await wal.save({ term: 1, vote: 1n, commit: 0 }, [{ term: 1, index: 1, type: 0, data }]);
    // Concurrent saves share one write and one fdatasync (group commit).
    await Promise.all([
      wal.save(undefined, [{ term: 1, index: 2, type: 0, data }]),
      wal.save({ term: 1, vote: 1n, commit: 2 }, [{ term: 1, index: 3, type: 0, data }]),
    ]);
    // A snapshot at index 2: the marker goes in the log, the metadata file in member/snap.
    const confState = { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    const snapshotter = new Snapshotter(join(dataDir, "member", "snap"));
    await snapshotter.save({ data: new Uint8Array(0), metadata: { index: 2, term: 1, confState } });
    await wal.saveSnapshot({ index: 2, term: 1, confState });
    await wal.releaseTo(2); // drop segments holding only entries <= 2 (none yet: one segment)
    await wal.close();

    // Restart: pick the newest snapshot the log knows, open the log there, read the rest.
    const markers = await Wal.readSnapshotMarkers(walDir);
    const snapshot = await snapshotter.loadNewestAvailable(markers);
    const reopened = await Wal.open(walDir, snapshot.metadata);
    try {
      const { metadata, hardState, entries } = await reopened.readAll();
      log("member", metadata.memberId.toString(16), "commit", hardState.commit);
      log("entries after the snapshot:", entries.map((e) => e.index).join(","));
    } catch (error) {
      // Synced records are damaged: never truncate them; rebuild this member from its peers instead.
      if (error instanceof WalCorruptError) log("corrupt:", error.file, error.offset, error.index);
      throw error;
    } finally {
      await reopened.close();
    }
    // --- README example end ---
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  expect(logs).toEqual(["member 8e9e05c52164694d commit 2", "entries after the snapshot: 3"]);
});
