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
} from "./kv-store.js";
export {
  DEFAULT_COMPACTION_BATCH_LIMIT,
  DEFAULT_COMPACTION_INDEX_CHUNK,
  KvStore,
} from "./kv-store.js";
export type { Revision } from "./revision.js";
export { DEFAULT_MAX_TXN_OPS } from "./txn-check.js";
export type { Change } from "./write-txn.js";
