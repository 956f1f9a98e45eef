export type {
  Backend,
  BackendBatch,
  BackendEntry,
  BackendSnapshot,
  LevelChainedBatchLike,
  LevelIteratorLike,
  LevelRootBatchLike,
  LevelSnapshotLike,
  LevelSublevelLike,
} from "./backend.js";
export { levelBackend, sublevelBatch } from "./backend.js";
export type { MvccErrorCode } from "./errors.js";
export {
  ErrCompacted,
  ErrDuplicateKey,
  ErrDuplicateWatchId,
  ErrEmptyKey,
  ErrFutureRevision,
  ErrInvalidSortOption,
  ErrKeyNotFound,
  ErrLeaseNotFound,
  ErrLeaseProvided,
  ErrTooManyOps,
  ErrValueProvided,
  ErrWatchStreamClosed,
  MvccError,
} from "./errors.js";
export { prefixEnd } from "./key-range.js";
export type {
  CompactionStats,
  HashKVResult,
  KvStoreOptions,
  LeaseChange,
  PendingCompaction,
  PendingWrite,
  StoredEvent,
  StoreHooks,
} from "./kv-store.js";
export {
  DEFAULT_COMPACTION_BATCH_LIMIT,
  DEFAULT_COMPACTION_INDEX_CHUNK,
  isReadOnlyTxn,
  KvStore,
} from "./kv-store.js";
export type { LevelRootLike } from "./level-maintenance.js";
export { databaseSizeBytes, databaseSizeInUseBytes, defragment } from "./level-maintenance.js";
export type { Revision } from "./revision.js";
export { checkPutRequest, checkTxnRequest, DEFAULT_MAX_TXN_OPS } from "./txn-check.js";
export { fragmentWatchResponse } from "./watch-fragment.js";
export { CANCEL_REASON_COMPACTED, DEFAULT_MAX_QUEUED_RESPONSES, WatchStream } from "./watch-stream.js";
export type { WatchableStoreOptions } from "./watchable-store.js";
export { WATCH_BATCH_MAX_EVENTS, WATCH_BATCH_MAX_REVISIONS, WatchableStore } from "./watchable-store.js";
export type { Change } from "./write-txn.js";
