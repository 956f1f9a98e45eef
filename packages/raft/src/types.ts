/**
 * Plain data types of the Raft protocol. Field names follow etcd's `raftpb` in camelCase; terms and
 * indexes are `number` (always safe integers), node ids are `bigint` (0n means "none").
 * The numeric values of every enum match raftpb so that a caller can convert to and from the wire.
 */

/** NONE is the placeholder node id used when there is no leader or no vote. */
export const NONE = 0n;

/** EntryType tells how the data of an {@link Entry} is to be interpreted. Values as raftpb.EntryType. */
export const EntryType = {
  Normal: 0,
  ConfChange: 1,
  ConfChangeV2: 2,
} as const;
/** EntryType is the numeric type of a log entry. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** Entry is one record of the replicated log. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** HardState is the state that must be persisted before any message that depends on it is sent. */
export interface HardState {
  term: number;
  /** The candidate voted for in `term`, 0n if none. */
  vote: bigint;
  commit: number;
}

/** ConfState is the membership configuration, as recorded in snapshots. */
export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  /** Voters of the outgoing half of a joint configuration; empty when not joint. */
  votersOutgoing: bigint[];
  /** Voters of the outgoing config that become learners when the joint config is left. */
  learnersNext: bigint[];
  /** Whether the joint configuration is left automatically once it is applied. */
  autoLeave: boolean;
}

/** SnapshotMetadata identifies the last entry a snapshot covers and the membership at that point. */
export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/** Snapshot is an opaque application state plus the log position it covers. */
export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** MessageType enumerates the kinds of {@link Message}. Values as raftpb.MessageType. */
export const MessageType = {
  MsgHup: 0,
  MsgBeat: 1,
  MsgProp: 2,
  MsgApp: 3,
  MsgAppResp: 4,
  MsgVote: 5,
  MsgVoteResp: 6,
  MsgSnap: 7,
  MsgHeartbeat: 8,
  MsgHeartbeatResp: 9,
  MsgUnreachable: 10,
  MsgSnapStatus: 11,
  MsgCheckQuorum: 12,
  MsgTransferLeader: 13,
  MsgTimeoutNow: 14,
  MsgReadIndex: 15,
  MsgReadIndexResp: 16,
  MsgPreVote: 17,
  MsgPreVoteResp: 18,
  MsgForgetLeader: 23,
} as const;
/** MessageType is the numeric kind of a message. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const messageTypeNames = new Map<number, string>(Object.entries(MessageType).map(([k, v]) => [v, k]));

/** messageTypeName returns the raftpb name of a message type, e.g. "MsgApp". */
export function messageTypeName(t: MessageType): string {
  return messageTypeNames.get(t) ?? `MsgType(${t})`;
}

/** Message is what Raft nodes exchange (and what the local API feeds into the state machine). */
export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: number;
  /** Term of the entry at `index` (MsgApp), of the candidate's last entry (votes), or a rejection hint term. */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot | undefined;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

/** ConfChangeType is the kind of a single membership change. Values as raftpb.ConfChangeType. */
export const ConfChangeType = {
  AddNode: 0,
  RemoveNode: 1,
  UpdateNode: 2,
  AddLearnerNode: 3,
} as const;
/** ConfChangeType is the numeric kind of a membership change. */
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** ConfChange is a single-step (v1) membership change. */
export interface ConfChange {
  id: bigint;
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
}

/** ConfChangeSingle is one change inside a {@link ConfChangeV2}. */
export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: bigint;
}

/** ConfChangeTransition selects how a ConfChangeV2 uses joint consensus. Values as raftpb. */
export const ConfChangeTransition = {
  /** Joint consensus if needed (more than one change), left automatically. */
  Auto: 0,
  /** Always joint consensus, left automatically. */
  JointImplicit: 1,
  /** Always joint consensus, left only by an explicit empty ConfChangeV2. */
  JointExplicit: 2,
} as const;
/** ConfChangeTransition is the numeric transition kind. */
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition];

/** ConfChangeV2 is a (possibly joint) membership change; an empty one leaves a joint configuration. */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

/** StateType is the role of a Raft node. */
export const StateType = {
  Follower: 0,
  Candidate: 1,
  Leader: 2,
  PreCandidate: 3,
} as const;
/** StateType is the numeric role of a node. */
export type StateType = (typeof StateType)[keyof typeof StateType];

const stateNames = ["StateFollower", "StateCandidate", "StateLeader", "StatePreCandidate"];
/** stateTypeName returns the etcd name of a role, e.g. "StateLeader". */
export function stateTypeName(s: StateType): string {
  return stateNames[s] ?? `State(${s})`;
}

/** ReadOnlyOption selects how ReadIndex confirms leadership. */
export const ReadOnlyOption = {
  /** Confirm with a quorum heartbeat round (linearizable regardless of clocks). */
  Safe: 0,
  /** Rely on the leader lease (requires CheckQuorum; assumes bounded clock drift). */
  LeaseBased: 1,
} as const;
/** ReadOnlyOption is the numeric read-only mode. */
export type ReadOnlyOption = (typeof ReadOnlyOption)[keyof typeof ReadOnlyOption];

/** SoftState is volatile state that need not be persisted. */
export interface SoftState {
  lead: bigint;
  raftState: StateType;
}

/** ReadState answers a ReadIndex request: reads for `requestCtx` are linearizable once `index` is applied. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/** emptyConfState returns a ConfState with no members. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/** emptyHardState returns the zero HardState. */
export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

/** isEmptyHardState reports whether a HardState is the zero value. */
export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

/** isEmptySnapshot reports whether a snapshot is absent or covers index 0. */
export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

const EMPTY = new Uint8Array(0);

/** newMessage builds a Message, filling every field not given with its zero value. */
export function newMessage(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: undefined,
    reject: false,
    rejectHint: 0,
    context: EMPTY,
    ...fields,
  };
}

/** newEntry builds an Entry, defaulting to an empty normal entry. */
export function newEntry(fields: Partial<Entry>): Entry {
  return { term: 0, index: 0, type: EntryType.Normal, data: EMPTY, ...fields };
}

/** ENTRY_OVERHEAD_BYTES approximates the framing of an entry (term, index, type) for size limits. */
export const ENTRY_OVERHEAD_BYTES = 12;

/** entrySizeBytes is the size an entry counts for against message and batch size limits. */
export function entrySizeBytes(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** payloadSizeBytes is the size an entry counts for against the uncommitted-size limit (data only). */
export function payloadSizeBytes(e: Entry): number {
  return e.data.byteLength;
}

/** limitSize keeps a prefix of `ents` whose total size is at most `maxSizeBytes`, but at least one entry. */
export function limitSize(ents: Entry[], maxSizeBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBytes(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySizeBytes(ents[n]!);
    if (size > maxSizeBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/** NO_LIMIT is the size limit meaning "unbounded". */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;
