import type { AckedIndexer, VoteLookup } from "./vote-result.js";
import { VoteResult } from "./vote-result.js";

/** MAX_INDEX is what an empty configuration reports as committed: it never restricts a joint quorum. */
export const MAX_INDEX = Number.MAX_SAFE_INTEGER;

/** MajorityConfig is a set of voters decided by simple majority. */
export class MajorityConfig {
  readonly ids: Set<bigint>;

  constructor(ids: Iterable<bigint> = []) {
    this.ids = new Set(ids);
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: bigint): boolean {
    return this.ids.has(id);
  }

  /** sorted returns the voter ids in ascending order (deterministic output). */
  sorted(): bigint[] {
    return [...this.ids].sort(compareIds);
  }

  clone(): MajorityConfig {
    return new MajorityConfig(this.ids);
  }

  toString(): string {
    return `(${this.sorted().join(" ")})`;
  }

  /**
   * committedIndex is the largest index acknowledged by a majority (missing voters count as 0).
   * An empty config returns MAX_INDEX so that it does not constrain a joint config.
   */
  committedIndex(acked: AckedIndexer): number {
    const n = this.ids.size;
    if (n === 0) return MAX_INDEX;
    const idx: number[] = [];
    for (const id of this.ids) idx.push(acked(id) ?? 0);
    idx.sort((a, b) => a - b);
    // With the acks in ascending order, the entry at n - quorum is acked by at least `quorum` voters.
    return idx[n - (Math.floor(n / 2) + 1)]!;
  }

  /** voteResult tallies votes; an empty config wins (by convention, for joint configs). */
  voteResult(votes: VoteLookup): VoteResult {
    const n = this.ids.size;
    if (n === 0) return VoteResult.Won;
    let yes = 0;
    let missing = 0;
    for (const id of this.ids) {
      const v = votes(id);
      if (v === undefined) missing++;
      else if (v) yes++;
    }
    const q = Math.floor(n / 2) + 1;
    if (yes >= q) return VoteResult.Won;
    if (yes + missing >= q) return VoteResult.Pending;
    return VoteResult.Lost;
  }
}

/** compareIds orders node ids ascending. */
export function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
