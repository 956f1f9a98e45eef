/**
 * The plain shapes the WAL stores, shared with @etcd-ts/raft and @etcd-ts/server (terms and indexes as
 * `number`, member and cluster ids as `bigint`). The WAL converts them to and from protobuf at its edge.
 */

/** EntryType tells the application how to read an entry's data (numeric values as etcd's raftpb). */
export const EntryType = {
  /** data is an application request. */
  Normal: 0,
  /** data is a ConfChange. */
  ConfChange: 1,
  /** data is a ConfChangeV2. */
  ConfChangeV2: 2,
} as const;

/** EntryType is one of the values of the {@link EntryType} object. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** Entry is one record of the replicated log. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** HardState is what a raft node persists before it acts on it; `vote` 0n means none. */
export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

/** ConfState is the membership of the raft group at a snapshot. */
export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}

/** SnapshotMetadata names the log position a snapshot covers and the membership at that point. */
export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/**
 * WalSnapshot is a snapshot marker in the log: "a snapshot at (index, term) was taken". Reading the log
 * starts from one; `confState` is optional because reading only matches index and term.
 */
export interface WalSnapshot {
  index: number;
  term: number;
  confState?: ConfState;
}

/** WalMetadata ties a WAL to one member of one cluster. */
export interface WalMetadata {
  memberId: bigint;
  clusterId: bigint;
}

/** ReadAllResult is what {@link Wal.readAll} recovers: everything needed to restart raft. */
export interface ReadAllResult {
  metadata: WalMetadata;
  /** The latest hard state in the log (all zero when none was saved). */
  hardState: HardState;
  /** The entries after the snapshot marker the WAL was opened at, conflicts already resolved. */
  entries: Entry[];
}

/** emptyHardState returns the zero hard state (term 0, no vote, commit 0). */
export function emptyHardState(): HardState {
  return { term: 0, vote: 0n, commit: 0 };
}

/** emptyConfState returns a ConfState with no members. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}
