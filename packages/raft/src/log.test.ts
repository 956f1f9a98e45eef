import { describe, expect, it } from "vitest";
import { CompactedError } from "./errors.js";
import { RaftLog } from "./log.js";
import { MemoryStorage } from "./storage.js";
import type { Entry } from "./types.js";
import { NO_LIMIT, newEntry } from "./types.js";

const ents = (from: number, ...terms: number[]): Entry[] =>
  terms.map((t, i) => newEntry({ index: from + i, term: t }));

function logWith(stable: Entry[], unstable: Entry[] = []): RaftLog {
  const s = new MemoryStorage();
  s.append(stable);
  const l = new RaftLog(s, NO_LIMIT);
  if (unstable.length > 0) l.append(unstable);
  return l;
}

describe("RaftLog", () => {
  it("findConflict returns the first mismatching index, or 0", () => {
    const l = logWith(ents(1, 1, 2, 3));
    expect(l.findConflict([])).toBe(0);
    expect(l.findConflict(ents(1, 1, 2, 3))).toBe(0);
    expect(l.findConflict(ents(2, 2, 3, 4, 4))).toBe(4);
    expect(l.findConflict(ents(1, 4, 4))).toBe(1);
    expect(l.findConflict(ents(2, 1, 4))).toBe(2);
  });

  it("findConflictByTerm finds the last index whose term is <= the given term", () => {
    const l = logWith(ents(1, 1, 1, 3, 3, 5));
    expect(l.findConflictByTerm(5, 4)).toEqual([4, 3]);
    expect(l.findConflictByTerm(5, 2)).toEqual([2, 1]);
    expect(l.findConflictByTerm(5, 0)).toEqual([0, 0]);
    expect(l.findConflictByTerm(5, 5)).toEqual([5, 5]);
  });

  it("maybeAppend checks the previous entry, truncates conflicts and commits", () => {
    const l = logWith(ents(1, 1, 2, 3));
    expect(l.maybeAppend(3, 2, 3, [])).toBeUndefined();
    expect(l.maybeAppend(3, 3, 1, ents(4, 4))).toBe(4);
    expect(l.committed).toBe(1);
    expect(l.maybeAppend(1, 1, 4, ents(2, 4, 4))).toBe(3);
    expect(l.allEntries().map((e) => e.term)).toEqual([1, 4, 4]);
    expect(l.committed).toBe(3);
  });

  it("refuses to truncate committed entries", () => {
    const l = logWith(ents(1, 1, 2, 3));
    l.commitTo(3);
    expect(() => l.maybeAppend(1, 1, 3, ents(2, 4))).toThrow(/conflict with committed entry/);
  });

  it("commitTo never decreases and never exceeds the last index", () => {
    const l = logWith(ents(1, 1, 2, 3));
    l.commitTo(2);
    l.commitTo(1);
    expect(l.committed).toBe(2);
    expect(() => l.commitTo(4)).toThrow(/out of range/);
  });

  it("maybeCommit only commits entries of the given term", () => {
    const l = logWith(ents(1, 1, 2, 3));
    expect(l.maybeCommit(2, 3)).toBe(false);
    expect(l.maybeCommit(3, 3)).toBe(true);
    expect(l.committed).toBe(3);
  });

  it("isUpToDate compares last term, then length", () => {
    const l = logWith(ents(1, 1, 2, 3));
    expect(l.isUpToDate(3, 3)).toBe(true);
    expect(l.isUpToDate(2, 3)).toBe(false);
    expect(l.isUpToDate(1, 4)).toBe(true);
    expect(l.isUpToDate(9, 2)).toBe(false);
  });

  it("slices across storage and the unstable part, and reports compaction", () => {
    const s = new MemoryStorage();
    s.append(ents(1, 1, 1, 1, 1, 1));
    s.createSnapshot(2, undefined, new Uint8Array());
    s.compact(2);
    const l = new RaftLog(s, NO_LIMIT);
    l.append(ents(6, 2, 2));
    expect(l.slice(3, 8, NO_LIMIT).map((e) => e.index)).toEqual([3, 4, 5, 6, 7]);
    expect(() => l.slice(1, 3, NO_LIMIT)).toThrow(CompactedError);
    expect(l.term(2)).toBe(1);
    expect(l.nextCommittedEnts()).toEqual([]);
    l.commitTo(6);
    expect(l.nextCommittedEnts().map((e) => e.index)).toEqual([3, 4, 5, 6]);
    l.applyingTo(6);
    expect(l.hasNextCommittedEnts()).toBe(false);
  });

  it("stableTo only drops unstable entries whose term still matches", () => {
    const l = logWith([], ents(1, 1, 1, 2));
    l.stableTo(2, 2); // entry 2 has term 1: ignored
    expect(l.unstableEntries()).toHaveLength(3);
    l.stableTo(2, 1);
    expect(l.unstableEntries().map((e) => e.index)).toEqual([3]);
  });

  it("restore resets the log to a snapshot", () => {
    const l = logWith(ents(1, 1, 1));
    l.restore({
      data: new Uint8Array(),
      metadata: {
        index: 10,
        term: 3,
        confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
      },
    });
    expect([l.firstIndex(), l.lastIndex(), l.committed, l.lastTerm()]).toEqual([11, 10, 10, 3]);
    expect(l.hasPendingSnapshot()).toBe(true);
  });
});
