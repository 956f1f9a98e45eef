/**
 * LeaseError is the base class of the lessor's operating errors (bad input, unknown lease, wrong role).
 * `message` is the exact text etcd sends to clients, so the server's error table can pass it through.
 */
export abstract class LeaseError extends Error {
  /** code is a stable, machine-readable name for the server's error table. */
  abstract readonly code: string;
}

/** LeaseNotFoundError: the lease does not exist (never granted, revoked, or expired and awaiting revoke). */
export class LeaseNotFoundError extends LeaseError {
  override readonly name = "LeaseNotFoundError";
  readonly code = "lease-not-found";
  constructor() {
    super("etcdserver: requested lease not found");
  }
}

/** LeaseExistsError: a grant asked for an id that is already in use. */
export class LeaseExistsError extends LeaseError {
  override readonly name = "LeaseExistsError";
  readonly code = "lease-exists";
  constructor() {
    super("etcdserver: lease already exists");
  }
}

/** LeaseTtlTooLargeError: a grant asked for a TTL above MAX_LEASE_TTL_SECONDS (9e9 seconds). */
export class LeaseTtlTooLargeError extends LeaseError {
  override readonly name = "LeaseTtlTooLargeError";
  readonly code = "lease-ttl-too-large";
  constructor() {
    super("etcdserver: too large lease TTL");
  }
}

/**
 * NotPrimaryError: a renew reached a lessor that is not the primary (the raft leader). Only the primary
 * knows deadlines; the server forwards the keep-alive to the leader (or answers etcd's "not leader").
 */
export class NotPrimaryError extends LeaseError {
  override readonly name = "NotPrimaryError";
  readonly code = "not-primary";
  constructor() {
    super("not a primary lessor");
  }
}

/**
 * LeaseCorruptError: a record in the lease sublevel cannot be decoded. The backend is damaged; the member
 * must not serve from it.
 */
export class LeaseCorruptError extends LeaseError {
  override readonly name = "LeaseCorruptError";
  readonly code = "lease-corrupt";
}
