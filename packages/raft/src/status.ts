import type { ProgressState } from "./tracker/progress.js";
import type { ConfState, HardState, SoftState } from "./types.js";

/** ProgressStatus is a read-only copy of the leader's progress for one member. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  pendingSnapshot: number;
  recentActive: boolean;
  probeSent: boolean;
  isLearner: boolean;
  inflightCount: number;
  inflightBytes: number;
}

/** Status is a snapshot of a node's state, for monitoring and tests. */
export interface Status {
  id: bigint;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  /** Leader only: the progress of every member. Empty on followers. */
  progress: Map<bigint, ProgressStatus>;
  leadTransferee: bigint;
  config: ConfState;
}
