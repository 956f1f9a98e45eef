import { assert } from "./assert.js";
import { CompactedError, SnapOutOfDateError, UnavailableError } from "./errors.js";
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";
import { EntryType, emptyConfState, emptyHardState, limitSize } from "./types.js";

/** InitialState is what a Storage knows when a node starts: its hard state and membership. */
export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/**
 * Storage is the read side of a node's stable log, used by raft to look up persisted entries.
 * raft never writes to it: the driver persists what each Ready hands out (entries, hard state, snapshot)
 * and makes it visible here before calling `advance()`. Methods throw {@link CompactedError} /
 * {@link UnavailableError} for entries outside the retained range.
 */
export interface Storage {
  /** initialState returns the saved HardState and ConfState. */
  initialState(): InitialState;
  /** entries returns entries in [lo, hi), at least one if any, at most `maxSizeBytes` in total otherwise. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** term returns the term of entry i, which must be in [firstIndex()-1, lastIndex()]. */
  term(i: number): number;
  /** lastIndex returns the index of the last entry in the log. */
  lastIndex(): number;
  /** firstIndex returns the index of the first entry still available (older ones are in the snapshot). */
  firstIndex(): number;
  /** snapshot returns the most recent snapshot; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}

/**
 * MemoryStorage is the reference {@link Storage}, backed by an array. It also offers the write methods
 * a driver needs (`setHardState`, `append`, `applySnapshot`, `createSnapshot`, `compact`).
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot;
  /** ents[0] is a dummy entry standing for the snapshot: its index and term are the snapshot's. */
  private ents: Entry[];

  /** Creates an empty storage; `confState` optionally seeds the initial membership (bootstrap). */
  constructor(confState: ConfState = emptyConfState()) {
    this.snap = {
      data: new Uint8Array(0),
      metadata: { index: 0, term: 0, confState: cloneConfState(confState) },
    };
    this.ents = [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }];
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  /** setHardState saves the current HardState. */
  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** hardStateNow returns the saved HardState (a copy). */
  savedHardState(): HardState {
    return { ...this.hardState };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError();
    assert(
      hi <= this.lastIndex() + 1,
      () => `entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`,
    );
    if (this.ents.length === 1) throw new UnavailableError();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError();
    if (i - offset >= this.ents.length) throw new UnavailableError();
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** applySnapshot replaces the storage contents with a snapshot (received from the leader). */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapOutOfDateError();
    this.snap = snap;
    this.ents = [
      {
        term: snap.metadata.term,
        index: snap.metadata.index,
        type: EntryType.Normal,
        data: new Uint8Array(0),
      },
    ];
  }

  /**
   * createSnapshot records a snapshot of the application state at applied index `i` (which must be in
   * the log), with the membership `cs` and the application `data`. Use `compact` to drop older entries.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapOutOfDateError();
    const offset = this.ents[0]!.index;
    assert(i <= this.lastIndex(), () => `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = {
      data,
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: cloneConfState(cs ?? this.snap.metadata.confState),
      },
    };
    return this.snap;
  }

  /** compact discards all entries before `compactIndex`; the caller must not compact beyond applied. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new CompactedError();
    assert(
      compactIndex <= this.lastIndex(),
      () => `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`,
    );
    const i = compactIndex - offset;
    const first = this.ents[i]!;
    this.ents = [
      { term: first.term, index: first.index, type: EntryType.Normal, data: new Uint8Array(0) },
      ...this.ents.slice(i + 1),
    ];
  }

  /**
   * append adds entries that must be contiguous with (or overlap) the log; entries that conflict replace
   * the existing suffix. Entries already compacted are ignored.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    let ents = entries;
    if (first > ents[0]!.index) ents = ents.slice(first - ents[0]!.index);
    const offset = ents[0]!.index - this.ents[0]!.index;
    assert(
      offset <= this.ents.length,
      () => `missing log entry [last: ${this.lastIndex()}, append at: ${ents[0]!.index}]`,
    );
    // Truncate any conflicting suffix, then append in place (no copy of the retained log).
    if (offset < this.ents.length) this.ents.length = offset;
    for (const e of ents) this.ents.push(e);
  }
}

/** cloneConfState returns a deep copy of a ConfState. */
export function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
}
