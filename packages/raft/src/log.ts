import { assert } from "./assert.js";
import { CompactedError, UnavailableError } from "./errors.js";
import { Unstable } from "./log-unstable.js";
import type { Storage } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";
import { limitSize } from "./types.js";

/**
 * RaftLog is a node's view of the log: the persisted part (Storage) followed by the unstable part.
 *
 * Invariants: firstIndex()-1 <= applied <= applying <= committed <= lastIndex().
 */
export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be committed (stored on a quorum). */
  committed: number;
  /** Highest index the application has applied (acknowledged through advance). */
  applied: number;
  /** Highest index handed out to the application (applied once the Ready is advanced). */
  applying: number;
  /** Bound on the bytes of committed entries handed out by one Ready. */
  readonly maxApplyingSizeBytes: number;

  constructor(storage: Storage, maxApplyingSizeBytes: number) {
    this.storage = storage;
    this.maxApplyingSizeBytes = maxApplyingSizeBytes;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }

  /**
   * maybeAppend appends `ents` after entry (index, logTerm) if that entry matches, and raises the commit
   * index to min(committed, last new index). Returns the last index of the new entries, or undefined when
   * the log does not contain (index, logTerm).
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    ents: Entry[],
    truncateWithoutConflict = false,
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    if (truncateWithoutConflict && ents.length > 0) {
      // Planted bug (test-only): replace the whole tail without looking for a conflict.
      this.append(ents, true);
    } else {
      const ci = this.findConflict(ents);
      if (ci !== 0) {
        assert(
          ci > this.committed,
          () => `entry ${ci} conflict with committed entry [committed(${this.committed})]`,
        );
        this.append(ents.slice(ci - (index + 1)));
      }
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** append adds entries to the unstable log (replacing a conflicting suffix) and returns the last index. */
  append(ents: Entry[], unchecked = false): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    assert(
      unchecked || after >= this.committed,
      () => `after(${after}) is out of range [committed(${this.committed})]`,
    );
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * findConflict returns the index of the first entry of `ents` whose term differs from ours (or which
   * we do not have), or 0 when every entry is already present.
   */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * findConflictByTerm returns the largest index <= `index` whose term is <= `term`, with that term; it
   * lets a leader skip a whole term of mismatching entries in one round trip (fast backtracking).
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (let i = index; i > 0; i--) {
      const t = this.termOrUndefined(i);
      if (t === undefined) return [i, 0];
      if (t <= term) return [i, t];
    }
    return [0, 0];
  }

  /** unstableEntries returns the entries not yet persisted. */
  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** nextCommittedEnts returns committed entries not yet handed out to the application. */
  nextCommittedEnts(): Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const lo = Math.max(this.applying + 1, this.firstIndex());
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.maxApplyingSizeBytes);
  }

  /** hasNextCommittedEnts reports whether nextCommittedEnts would return anything. */
  hasNextCommittedEnts(): boolean {
    if (this.hasPendingSnapshot()) return false;
    return this.committed + 1 > Math.max(this.applying + 1, this.firstIndex());
  }

  /** hasPendingSnapshot reports whether an incoming snapshot awaits persistence. */
  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined && this.unstable.snapshot.metadata.index !== 0;
  }

  /** snapshot returns the pending snapshot or the storage's latest. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** commitTo raises the commit index; it never lowers it. */
  commitTo(toCommit: number): void {
    if (this.committed < toCommit) {
      assert(
        this.lastIndex() >= toCommit,
        () =>
          `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
      );
      this.committed = toCommit;
    }
  }

  /** applyingTo records that entries up to i were handed to the application. */
  applyingTo(i: number): void {
    assert(i <= this.committed, () => `applying(${i}) is out of range [committed(${this.committed})]`);
    if (i > this.applying) this.applying = i;
  }

  /** appliedTo records that the application applied entries up to i. */
  appliedTo(i: number): void {
    if (i === 0) return;
    assert(
      this.committed >= i && i >= this.applied,
      () => `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
    );
    this.applied = i;
    if (this.applying < i) this.applying = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** term returns the term of entry i; throws CompactedError/UnavailableError outside the log. */
  term(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    return this.storage.term(i);
  }

  /** termOrUndefined is `term` returning undefined instead of throwing for an unavailable entry. */
  termOrUndefined(i: number): number | undefined {
    // Bounds are checked here rather than by catching: this is on the hot path of every append.
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return undefined;
      throw e;
    }
  }

  /** termOrZero is `term` returning 0 for an unavailable entry. */
  termOrZero(i: number): number {
    return this.termOrUndefined(i) ?? 0;
  }

  /** entries returns entries from i to the end, at most `maxSizeBytes` (at least one). */
  entries(i: number, maxSizeBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSizeBytes);
  }

  /** allEntries returns every available entry (for tests). */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), Number.MAX_SAFE_INTEGER);
  }

  /**
   * isUpToDate reports whether a log ending at (lasti, term) is at least as up-to-date as ours
   * (§5.4.1: later last term wins; with equal terms the longer log wins).
   */
  isUpToDate(lasti: number, term: number): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && lasti >= this.lastIndex());
  }

  matchTerm(i: number, t: number): boolean {
    const got = this.termOrUndefined(i);
    return got !== undefined && got === t;
  }

  /**
   * maybeCommit commits up to `maxIndex` if that entry is from `term` (§5.4.2: a leader only commits
   * entries of its own term by counting replicas). `anyTerm` is a test-only planted bug.
   */
  maybeCommit(maxIndex: number, term: number, anyTerm = false): boolean {
    if (maxIndex > this.committed && (anyTerm || this.termOrZero(maxIndex) === term)) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** restore resets the log to a snapshot. */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** slice returns entries [lo, hi) limited to `maxSizeBytes` (at least one entry). */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    assert(lo <= hi, () => `invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new CompactedError();
    const li = this.lastIndex();
    assert(hi <= li + 1, () => `slice[${lo},${hi}) out of bound [${fi},${li}]`);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const stored = this.storage.entries(lo, Math.min(hi, off), maxSizeBytes);
      // Storage returned fewer entries than asked: the size limit was hit.
      if (stored.length < Math.min(hi, off) - lo) return stored;
      ents = stored;
    }
    if (hi > off) {
      const unstable = this.unstable.slice(Math.max(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(unstable) : unstable;
    }
    return limitSize(ents, maxSizeBytes);
  }
}
