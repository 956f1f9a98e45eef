import { JointConfig } from "../quorum/joint.js";
import { compareIds } from "../quorum/majority.js";
import { VoteResult } from "../quorum/vote-result.js";
import type { ConfState } from "../types.js";
import type { Progress } from "./progress.js";

/** TrackerConfig is the active membership: voters (possibly joint) and learners. */
export class TrackerConfig {
  voters = new JointConfig();
  /** Learners: receive the log but do not vote. Disjoint from both halves of `voters`. */
  learners = new Set<bigint>();
  /**
   * Voters of the outgoing config that become learners when the joint config is left. They stay voters
   * (in `voters.outgoing`) until then, so they are not in `learners` yet.
   */
  learnersNext = new Set<bigint>();
  /** Leave the joint config automatically once it is committed and applied. */
  autoLeave = false;

  clone(): TrackerConfig {
    const c = new TrackerConfig();
    c.voters = this.voters.clone();
    c.learners = new Set(this.learners);
    c.learnersNext = new Set(this.learnersNext);
    c.autoLeave = this.autoLeave;
    return c;
  }

  toString(): string {
    let s = `voters=${this.voters}`;
    if (this.learners.size > 0) s += ` learners=(${[...this.learners].sort(compareIds).join(" ")})`;
    if (this.learnersNext.size > 0)
      s += ` learners_next=(${[...this.learnersNext].sort(compareIds).join(" ")})`;
    if (this.autoLeave) s += " autoleave";
    return s;
  }
}

/** ProgressMap maps a node id to the leader's progress for it. */
export type ProgressMap = Map<bigint, Progress>;

/** ProgressTracker holds the configuration, each member's progress, and the votes of an election. */
export class ProgressTracker {
  config = new TrackerConfig();
  progress: ProgressMap = new Map();
  votes = new Map<bigint, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  /** confState returns the configuration as a ConfState (sorted ids). */
  confState(): ConfState {
    return {
      voters: this.config.voters.incoming.sorted(),
      votersOutgoing: this.config.voters.outgoing.sorted(),
      learners: [...this.config.learners].sort(compareIds),
      learnersNext: [...this.config.learnersNext].sort(compareIds),
      autoLeave: this.config.autoLeave,
    };
  }

  /** isSingleton reports whether this is a one-voter, non-joint configuration. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** committed is the largest index acknowledged by a (joint) quorum. */
  committed(): number {
    return this.config.voters.committedIndex((id) => this.progress.get(id)?.match);
  }

  /** visit calls f for every tracked node in ascending id order (deterministic). */
  visit(f: (id: bigint, pr: Progress) => void): void {
    for (const id of this.sortedIds()) {
      const pr = this.progress.get(id);
      if (pr !== undefined) f(id, pr);
    }
  }

  private sortedCache: { map: ProgressMap; size: number; ids: bigint[] } | undefined = undefined;

  /** sortedIds returns the tracked ids in ascending order, cached while the progress map is unchanged. */
  private sortedIds(): bigint[] {
    const c = this.sortedCache;
    if (c !== undefined && c.map === this.progress && c.size === this.progress.size) return c.ids;
    const ids = [...this.progress.keys()].sort(compareIds);
    this.sortedCache = { map: this.progress, size: this.progress.size, ids };
    return ids;
  }

  /** quorumActive reports whether a quorum of voters was recently active. */
  quorumActive(): boolean {
    return (
      this.config.voters.voteResult((id) => {
        const pr = this.progress.get(id);
        return pr === undefined ? undefined : pr.recentActive;
      }) === VoteResult.Won
    );
  }

  /** voterNodes returns the sorted ids of all voters (both halves). */
  voterNodes(): bigint[] {
    return [...this.config.voters.ids()].sort(compareIds);
  }

  /** learnerNodes returns the sorted ids of learners. */
  learnerNodes(): bigint[] {
    return [...this.config.learners].sort(compareIds);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** recordVote records a vote; only the first vote of each node counts. */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** tallyVotes counts granted and rejected votes of voters and decides the election. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    const result = this.config.voters.voteResult((id) => this.votes.get(id));
    return { granted, rejected, result };
  }
}
