import { describe, expect, it } from "vitest";
import { CompactedError, SnapOutOfDateError, UnavailableError } from "./errors.js";
import { MemoryStorage } from "./storage.js";
import { newEntry } from "./types.js";

function st345(): MemoryStorage {
  // Entries 3,4,5 (terms 3,4,5) after a snapshot at index 3.
  const s = new MemoryStorage();
  s.applySnapshot({
    data: new Uint8Array(),
    metadata: {
      index: 3,
      term: 3,
      confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
    },
  });
  s.append([newEntry({ index: 4, term: 4 }), newEntry({ index: 5, term: 5 })]);
  return s;
}

describe("MemoryStorage", () => {
  it("term: compacted below the snapshot, unavailable beyond the end", () => {
    const s = st345();
    expect(() => s.term(2)).toThrow(CompactedError);
    expect(s.term(3)).toBe(3);
    expect(s.term(5)).toBe(5);
    expect(() => s.term(6)).toThrow(UnavailableError);
    expect(() => s.term(6)).toThrow("requested entry at index is unavailable");
  });

  it("entries: bounds and size limit (always at least one entry)", () => {
    const s = st345();
    expect(() => s.entries(3, 5, 1000)).toThrow("requested index is unavailable due to compaction");
    expect(s.entries(4, 6, 1000).map((e) => e.index)).toEqual([4, 5]);
    expect(s.entries(4, 6, 0).map((e) => e.index)).toEqual([4]);
    expect(() => s.entries(4, 7, 1000)).toThrow(/out of bound/);
  });

  it("first and last index", () => {
    const s = st345();
    expect([s.firstIndex(), s.lastIndex()]).toEqual([4, 5]);
  });

  it("compact drops entries before the index and refuses to go back", () => {
    const s = st345();
    s.compact(4);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([5, 5]);
    expect(s.term(4)).toBe(4);
    expect(() => s.compact(4)).toThrow(CompactedError);
  });

  it("append replaces a conflicting suffix and ignores compacted entries", () => {
    const s = st345();
    s.append([newEntry({ index: 5, term: 6 }), newEntry({ index: 6, term: 6 })]);
    expect(s.entries(4, 7, 1000).map((e) => e.term)).toEqual([4, 6, 6]);
    s.append([
      newEntry({ index: 2, term: 2 }),
      newEntry({ index: 3, term: 3 }),
      newEntry({ index: 4, term: 7 }),
    ]);
    expect(s.entries(4, 5, 1000).map((e) => e.term)).toEqual([7]);
    expect(s.lastIndex()).toBe(4);
    expect(() => s.append([newEntry({ index: 9, term: 9 })])).toThrow(/missing log entry/);
  });

  it("createSnapshot and applySnapshot refuse older snapshots", () => {
    const s = st345();
    const snap = s.createSnapshot(4, undefined, new Uint8Array([1]));
    expect(snap.metadata).toMatchObject({ index: 4, term: 4 });
    expect(() => s.createSnapshot(3, undefined, new Uint8Array())).toThrow(SnapOutOfDateError);
    expect(() => s.applySnapshot(snap)).toThrow("requested index is older than the existing snapshot");
  });

  it("initialState returns the saved hard state and the snapshot's ConfState", () => {
    const s = st345();
    s.setHardState({ term: 5, vote: 1n, commit: 5 });
    expect(s.initialState()).toEqual({
      hardState: { term: 5, vote: 1n, commit: 5 },
      confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
    });
  });
});
