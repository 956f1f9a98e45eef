import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { WalNotFoundError } from "./errors.js";
import { MemWalFs } from "./mem-fs.js";
import type { Entry, HardState } from "./types.js";
import { Wal } from "./wal.js";

/**
 * Power loss at EVERY mutating file-system call of a fixed workload (create, saves with conflicting tails,
 * several segment cuts, a snapshot marker, a release), once losing everything unsynced and once keeping a
 * random part of it, torn. Recovery must always open and return the state after a prefix of the issued
 * saves that contains every acknowledged one.
 */

const DIR = "/wal";
const META = { memberId: 3n, clusterId: 4n };
const SEGMENT_BYTES = 512;
const SNAPSHOT = { index: 12, term: 3 };

interface Save {
  hardState: HardState;
  entries: Entry[];
}

function workload(): Save[] {
  const saves: Save[] = [];
  let last = 0;
  for (let i = 0; i < 24; i++) {
    // Every fifth save rewrites the last two entries (a conflicting tail from a new leader).
    const start = i % 5 === 4 ? Math.max(1, last - 1) : last + 1;
    const count = 1 + (i % 3);
    const entries: Entry[] = [];
    for (let k = 0; k < count; k++) {
      entries.push({
        index: start + k,
        term: 1 + Math.floor(i / 5),
        type: 0,
        data: new Uint8Array(20 + i).fill(i),
      });
    }
    last = start + count - 1;
    saves.push({
      hardState: { term: 1 + Math.floor(i / 5), vote: 2n, commit: Math.max(0, last - 3) },
      entries,
    });
  }
  return saves;
}

interface State {
  entries: Entry[];
  hardState: HardState;
}

function stateAfter(saves: readonly Save[], count: number): State {
  let entries: Entry[] = [];
  let hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  for (const save of saves.slice(0, count)) {
    entries = [...entries.slice(0, save.entries[0]!.index - 1), ...save.entries];
    hardState = save.hardState;
  }
  return { entries, hardState };
}

/** run runs the workload until the disk goes down; returns how many saves were acknowledged. */
async function run(fs: MemWalFs, saves: readonly Save[]): Promise<{ acked: number; created: boolean }> {
  let wal: Wal;
  try {
    wal = await Wal.create(DIR, META, { fs, segmentBytes: SEGMENT_BYTES });
  } catch {
    return { acked: 0, created: false };
  }
  let acked = 0;
  try {
    for (let i = 0; i < saves.length; i += 2) {
      // Pairs of concurrent saves share a group commit.
      const pair = saves.slice(i, i + 2);
      await Promise.all(pair.map((save) => wal.save(save.hardState, save.entries)));
      acked += pair.length;
      if (i === 10) await wal.saveSnapshot(SNAPSHOT);
      if (i === 16) await wal.releaseTo(SNAPSHOT.index);
    }
  } catch {
    // The disk went down: what was acknowledged so far is what must survive.
  }
  await wal.close();
  return { acked, created: true };
}

describe("power loss at every file-system call", () => {
  it("always recovers a prefix containing every acknowledged save", async () => {
    const saves = workload();
    // Count the mutating calls of a clean run.
    const probe = new MemWalFs();
    await run(probe, saves);
    const total =
      probe.counts.open +
      probe.counts.pwrite +
      probe.counts.fdatasync +
      probe.counts.truncate +
      probe.counts.rename +
      probe.counts.unlink +
      probe.counts.fsyncDir +
      probe.counts.mkdir;
    expect(total).toBeGreaterThan(100);

    let recoveries = 0;
    let snapshotRecoveries = 0;
    for (let calls = 0; calls <= total; calls++) {
      for (const keepSome of [false, true]) {
        const fs = new MemWalFs();
        fs.crashAfter(calls);
        const { acked, created } = await run(fs, saves);
        let x = calls * 2654435761 + (keepSome ? 1 : 0);
        fs.crash(
          keepSome
            ? {
                random: () => {
                  x = (x * 1103515245 + 12345) % 2 ** 31;
                  return x / 2 ** 31;
                },
              }
            : {},
        );
        if (!(await Wal.exists(DIR, { fs }))) {
          // Only possible when the log was never created (its first segment is named durably).
          expect(created).toBe(false);
          continue;
        }
        // Once segments were released, the log opens only at the snapshot it was released to.
        const options = { fs, segmentBytes: SEGMENT_BYTES };
        let fromSnapshot = false;
        let wal = await Wal.open(DIR, { index: 0, term: 0 }, options).catch((error: unknown) => {
          expect(error).toBeInstanceOf(WalNotFoundError);
          return undefined;
        });
        if (!wal) {
          fromSnapshot = true;
          wal = await Wal.open(DIR, SNAPSHOT, options);
        }
        const read = await wal.readAll();
        await wal.close();
        if (fromSnapshot) snapshotRecoveries++;
        let matched = false;
        for (let k = acked; k <= saves.length && !matched; k++) {
          const expected = stateAfter(saves, k);
          const entries = fromSnapshot
            ? expected.entries.filter((e) => e.index > SNAPSHOT.index)
            : expected.entries;
          matched = isDeepStrictEqual(
            normalize(read.entries, read.hardState),
            normalize(entries, expected.hardState),
          );
        }
        expect(matched, `crash after ${calls} calls (keepSome=${keepSome}), acked ${acked}`).toBe(true);
        recoveries++;
      }
    }
    expect(recoveries).toBeGreaterThan(150);
    expect(snapshotRecoveries).toBeGreaterThan(10);
  }, 60_000);
});

function normalize(entries: readonly Entry[], hardState: HardState): unknown {
  return {
    entries: entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Array.from(e.data) })),
    hardState: { term: hardState.term, vote: hardState.vote, commit: hardState.commit },
  };
}
