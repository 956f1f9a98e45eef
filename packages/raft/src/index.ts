/**
 * @etcd-ts/raft: a pure, synchronous, deterministic Raft consensus library.
 *
 * Drive a {@link RawNode}: tick it, step incoming messages, propose; then handle each {@link Ready}
 * (persist, send, apply) and call advance(). See README.md for a complete driver loop.
 */

export {
  decodeConfChange,
  decodeConfChangeV2,
  encodeConfChange,
  encodeConfChangeV2,
} from "./confchange/codec.js";
export { asV2, enterJoint, leaveJoint } from "./confchange/conf-change.js";
export type { Config, ResolvedConfig, TestingKnobs } from "./config.js";
export { DEFAULT_MAX_INFLIGHT_MSGS, validateConfig } from "./config.js";
export {
  AssertionError,
  CompactedError,
  ConfChangeError,
  ConfigError,
  ProposalDroppedError,
  RaftError,
  SnapOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  StepLocalMsgError,
  StepPeerNotFoundError,
  UnavailableError,
} from "./errors.js";
export { CampaignType, Raft } from "./raft.js";
export type { SnapshotStatus } from "./raw-node.js";
export { RawNode } from "./raw-node.js";
export { MAX_PENDING_READ_INDEX_REQUESTS } from "./read-only.js";
export type { Ready } from "./ready.js";
export { coalesceMessages, isEmptyReady, messagesBeforePersist } from "./ready.js";
export type { ProgressStatus, Status } from "./status.js";
export type { InitialState, Storage } from "./storage.js";
export { MemoryStorage } from "./storage.js";
export { ProgressState, progressStateName } from "./tracker/progress.js";
export type {
  ConfChange,
  ConfChangeSingle,
  ConfChangeV2,
  ConfState,
  Entry,
  HardState,
  Message,
  ReadState,
  Snapshot,
  SnapshotMetadata,
  SoftState,
} from "./types.js";
export {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  emptyConfState,
  emptyHardState,
  isEmptyHardState,
  isEmptySnapshot,
  MessageType,
  messageTypeName,
  NONE,
  newEntry,
  newMessage,
  ReadOnlyOption,
  StateType,
  stateTypeName,
} from "./types.js";
