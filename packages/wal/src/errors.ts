/**
 * Typed operating errors of the WAL and the snapshotter. Where etcd has an error for the case, `message` is
 * etcd's exact text (clients and operators match on it); details are in fields.
 */

/** WalError is the base class of every error the WAL throws on purpose. */
export class WalError extends Error {
  override name = "WalError";
}

/** WalNotFoundError: no WAL segment to open (etcd's ErrFileNotFound). */
export class WalNotFoundError extends WalError {
  override name = "WalNotFoundError";
  constructor(readonly dir: string) {
    super("wal: file not found");
  }
}

/** WalExistsError: `create` was asked to create a WAL where one already exists. */
export class WalExistsError extends WalError {
  override name = "WalExistsError";
  constructor(readonly dir: string) {
    super("wal: file already exists");
  }
}

/**
 * WalFormatError: a file is not a segment of this WAL format (wrong header, unknown version, a name that
 * does not parse), or the segment files do not form one log (a missing sequence number).
 */
export class WalFormatError extends WalError {
  override name = "WalFormatError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super("wal: unexpected file format");
  }
}

/**
 * WalCorruptError: a durable record failed its checks and valid records follow it, so it is not a torn
 * write from a crash but damage to data that was synced (bit rot, a lost sector). The WAL never cuts such
 * a record off silently: the member must refuse to start or be rebuilt from its peers.
 *
 * `offset` is the byte offset of the bad record in `file`; `index` is the raft index of the last entry
 * read intact before it (0 if none).
 */
export class WalCorruptError extends WalError {
  override name = "WalCorruptError";
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly index: number,
    readonly reason: string,
  ) {
    super("wal: crc mismatch");
  }
}

/** WalCorruptionError is another name for {@link WalCorruptError}. */
export const WalCorruptionError = WalCorruptError;
/** WalCorruptionError is another name for {@link WalCorruptError}. */
export type WalCorruptionError = WalCorruptError;

/** WalIndexGapError: the log skips raft indexes (e.g. a segment is missing between two others). */
export class WalIndexGapError extends WalError {
  override name = "WalIndexGapError";
  constructor(
    readonly file: string,
    readonly expectedIndex: number,
    readonly foundIndex: number,
  ) {
    super("wal: slice bounds out of range");
  }
}

/** WalMetadataConflictError: two metadata records in the log disagree. */
export class WalMetadataConflictError extends WalError {
  override name = "WalMetadataConflictError";
  constructor(readonly file: string) {
    super("wal: conflicting metadata found");
  }
}

/** WalSnapshotNotFoundError: the snapshot marker the WAL was opened at is not in the log. */
export class WalSnapshotNotFoundError extends WalError {
  override name = "WalSnapshotNotFoundError";
  constructor(readonly index: number) {
    super("wal: snapshot not found");
  }
}

/** WalSnapshotMismatchError: the log has a marker at the index asked for, but with another term. */
export class WalSnapshotMismatchError extends WalError {
  override name = "WalSnapshotMismatchError";
  constructor(
    readonly index: number,
    readonly expectedTerm: number,
    readonly foundTerm: number,
  ) {
    super("wal: snapshot mismatch");
  }
}

/** WalRecordTooLargeError: one record would exceed the WAL's `maxRecordBytes`. */
export class WalRecordTooLargeError extends WalError {
  override name = "WalRecordTooLargeError";
  constructor(
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super("wal: max entry size limit exceeded");
  }
}

/** WalBusyError: more saves are waiting than `maxPendingSaves` allows. */
export class WalBusyError extends WalError {
  override name = "WalBusyError";
  constructor(readonly maxPendingSaves: number) {
    super("wal: too many pending saves");
  }
}

/**
 * WalFailedError: a write or sync failed, so the WAL stopped (fail-stop). It never retries an fsync: after
 * a failed fsync the kernel may have dropped the dirty pages, and a retry that "succeeds" would lie. Every
 * later write is refused with this error; reopen the WAL (recovery decides what is durable).
 */
export class WalFailedError extends WalError {
  override name = "WalFailedError";
  constructor(override readonly cause: unknown) {
    super("wal: write failed, the log refuses further writes");
  }
}

/** WalClosedError: the WAL was used after `close`. */
export class WalClosedError extends WalError {
  override name = "WalClosedError";
  constructor() {
    super("wal: closed");
  }
}

/** SnapNoSnapshotError: no valid snapshot file exists (etcd's snap.ErrNoSnapshot). */
export class SnapNoSnapshotError extends WalError {
  override name = "SnapNoSnapshotError";
  constructor() {
    super("snap: no available snapshot");
  }
}

/** SnapEmptySnapshotError: a snapshot file holds no snapshot (etcd's snap.ErrEmptySnapshot). */
export class SnapEmptySnapshotError extends WalError {
  override name = "SnapEmptySnapshotError";
  constructor(readonly file: string) {
    super("snap: empty snapshot");
  }
}

/** SnapCrcMismatchError: a snapshot file fails its checksum (etcd's snap.ErrCRCMismatch). */
export class SnapCrcMismatchError extends WalError {
  override name = "SnapCrcMismatchError";
  constructor(readonly file: string) {
    super("snap: crc mismatch");
  }
}
