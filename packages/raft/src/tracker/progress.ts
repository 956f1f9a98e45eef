import type { Inflights } from "./inflights.js";

/** ProgressState is how the leader currently replicates to a follower. */
export const ProgressState = {
  /** Send one MsgApp at a time and wait for the answer, to find the follower's match index. */
  Probe: 0,
  /** Stream MsgApps optimistically, bounded by the inflight window. */
  Replicate: 1,
  /** A snapshot is on its way; send nothing until it is reported. */
  Snapshot: 2,
} as const;
/** ProgressState is the numeric replication state. */
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

const names = ["StateProbe", "StateReplicate", "StateSnapshot"];
/** progressStateName returns the etcd name of a progress state. */
export function progressStateName(s: ProgressState): string {
  return names[s] ?? `ProgressState(${s})`;
}

/**
 * Progress is the leader's view of one follower.
 *
 * Invariant: match < next. Entries in [match+1, next) may be in flight.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Whether we heard from the follower since the last CheckQuorum round. */
  recentActive = false;
  /** In Probe state: a probe was sent and is unanswered (flow paused until a response or heartbeat). */
  probeSent = false;
  inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, inflights: Inflights, isLearner: boolean) {
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
  }

  clone(): Progress {
    const p = new Progress(this.next, this.inflights.clone(), this.isLearner);
    p.match = this.match;
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.recentActive = this.recentActive;
    p.probeSent = this.probeSent;
    return p;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      // The follower may have the snapshot now: probe from just after it.
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** updateOnEntriesSend records a MsgApp carrying entries [first, first+count) of `bytes` payload. */
  updateOnEntriesSend(count: number, bytes: number, first: number): void {
    switch (this.state) {
      case ProgressState.Replicate:
        if (count > 0) {
          const last = first + count - 1;
          this.next = last + 1;
          this.inflights.add(last, bytes);
        }
        break;
      case ProgressState.Probe:
        this.probeSent = true;
        break;
      default:
        throw new Error(`sending append in unhandled state ${progressStateName(this.state)}`);
    }
  }

  /** maybeUpdate records an acknowledgement of index n; returns whether match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * maybeDecrTo handles a rejection of the MsgApp at index `rejected`, moving `next` back to probe from
   * `matchHint` + 1 (the follower's hint). Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    // Never probe below match+1: entries up to match are known to be on the follower.
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** isPaused reports whether the leader must hold back MsgApps to this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }

  toString(): string {
    let s = `${progressStateName(this.state)} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += " learner";
    if (this.probeSent) s += " paused";
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += " inactive";
    if (this.inflights.count() > 0) s += ` inflight=${this.inflights.count()}`;
    if (this.inflights.full()) s += "[full]";
    return s;
  }
}
