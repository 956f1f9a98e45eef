/**
 * @etcd-ts/wal: the write-ahead log (segmented, CRC-32C chained, group-committed, crash-recovering) and the
 * snapshot metadata files of an etcd-ts member. See README.md for the format and the recovery rules.
 *
 * @packageDocumentation
 */
export { crc32c } from "./crc32c.js";
export {
  SnapCrcMismatchError,
  SnapEmptySnapshotError,
  SnapNoSnapshotError,
  WalBusyError,
  WalClosedError,
  WalCorruptError,
  WalCorruptionError,
  WalError,
  WalExistsError,
  WalFailedError,
  WalFormatError,
  WalIndexGapError,
  WalMetadataConflictError,
  WalNotFoundError,
  WalRecordTooLargeError,
  WalSnapshotMismatchError,
  WalSnapshotNotFoundError,
} from "./errors.js";
export type { WalFileHandle, WalFs } from "./fs.js";
export type { MemCrashOptions, MemFsFault, MemFsOp } from "./mem-fs.js";
export { MemWalFs } from "./mem-fs.js";
export { NodeWalFs } from "./node-fs.js";
export type { RaftSnapshot, SnapshotterOptions } from "./snapshotter.js";
export { Snapshotter, snapshotFileName } from "./snapshotter.js";
export type {
  ConfState,
  Entry,
  HardState,
  ReadAllResult,
  SnapshotMetadata,
  WalMetadata,
  WalSnapshot,
} from "./types.js";
export { EntryType, emptyConfState, emptyHardState } from "./types.js";
export type { WalObserver, WalOptions } from "./wal.js";
export {
  DEFAULT_MAX_GROUP_BYTES,
  DEFAULT_MAX_PENDING_SAVES,
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_SEGMENT_BYTES,
  Wal,
} from "./wal.js";
