import { MajorityConfig } from "./majority.js";
import type { AckedIndexer, VoteLookup } from "./vote-result.js";
import { VoteResult } from "./vote-result.js";

/**
 * JointConfig is two majority configs (incoming, outgoing) that must BOTH agree (joint consensus, §6).
 * Outside a joint configuration `outgoing` is empty, which agrees with anything.
 */
export class JointConfig {
  incoming: MajorityConfig;
  outgoing: MajorityConfig;

  constructor(incoming = new MajorityConfig(), outgoing = new MajorityConfig()) {
    this.incoming = incoming;
    this.outgoing = outgoing;
  }

  clone(): JointConfig {
    return new JointConfig(this.incoming.clone(), this.outgoing.clone());
  }

  /** ids returns the union of both halves. */
  ids(): Set<bigint> {
    return new Set([...this.incoming.ids, ...this.outgoing.ids]);
  }

  isJoint(): boolean {
    return this.outgoing.size > 0;
  }

  toString(): string {
    return this.isJoint() ? `${this.incoming}&&${this.outgoing}` : this.incoming.toString();
  }

  /** committedIndex is the largest index committed in both halves. */
  committedIndex(acked: AckedIndexer): number {
    return Math.min(this.incoming.committedIndex(acked), this.outgoing.committedIndex(acked));
  }

  /** voteResult is Won only if both halves win, Lost if either loses. */
  voteResult(votes: VoteLookup): VoteResult {
    const r1 = this.incoming.voteResult(votes);
    const r2 = this.outgoing.voteResult(votes);
    if (r1 === r2) return r1;
    if (r1 === VoteResult.Lost || r2 === VoteResult.Lost) return VoteResult.Lost;
    return VoteResult.Pending;
  }
}
