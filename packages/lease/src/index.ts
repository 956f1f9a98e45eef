export { AssertionError } from "./assert.js";
export type { Clock } from "./clock.js";
export { ManualClock } from "./clock.js";
export {
  LeaseCorruptError,
  LeaseError,
  LeaseExistsError,
  LeaseNotFoundError,
  LeaseTtlTooLargeError,
  NotPrimaryError,
} from "./errors.js";
export type { LeaseBatch, LeaseReader } from "./lease-backend.js";
export type { LeaseId } from "./lease-id.js";
export { deriveLeaseId, formatLeaseId, leaseId, NO_LEASE } from "./lease-id.js";
export type { LeaseRecord } from "./lease-record.js";
export { decodeLeaseRecord, encodeLeaseKey, encodeLeaseValue } from "./lease-record.js";
export { grantTtlSeconds, MAX_LEASE_TTL_SECONDS, minLeaseTtlSeconds } from "./lease-ttl.js";
export type {
  GrantRequest,
  LeaseCheckpoint,
  LeaseInfo,
  LessorConfig,
  RangeDeleter,
  RenewResult,
  RevokeResult,
  TimeToLive,
} from "./lessor.js";
export {
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_EXPIRED_RETRY_MS,
  DEFAULT_MAX_CHECKPOINTS_PER_BATCH,
  DEFAULT_MAX_REVOKES_PER_SECOND,
  Lessor,
} from "./lessor.js";
export type { LessorDriverHooks } from "./lessor-driver.js";
export { DEFAULT_DRIVER_INTERVAL_MS, LessorDriver } from "./lessor-driver.js";
export type { LevelSublevelLike } from "./level-lease-backend.js";
export { DEFAULT_LEASE_SUBLEVEL, LevelLeaseBackend, sublevelLeaseReader } from "./level-lease-backend.js";
export { MemoryLeaseBackend, MemoryLeaseBatch } from "./memory-lease-backend.js";
