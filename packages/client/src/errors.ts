/**
 * Typed errors. etcd reports failures as a gRPC status code plus an exact message ("etcdserver: ..."); this
 * module turns every failure of a call into an {@link EtcdError} subclass chosen by that exact message (or, for
 * messages it does not know, by the code), so callers can write `if (err instanceof CompactedError)`.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** EtcdError is the base class of every error this client raises for a failed call. */
export class EtcdError extends Error {
  /** code is the gRPC status code (Connect's numbering equals gRPC's: 14 = Unavailable, ...). */
  readonly code: Code;
  constructor(message: string, code: Code = Code.Unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

// ---- transport-level failures (no etcd message) ----

/** UnavailableError: the endpoint or cluster cannot serve the call right now (gRPC Unavailable). */
export class UnavailableError extends EtcdError {
  constructor(message: string, code: Code = Code.Unavailable, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * EndpointUnavailableError: the connection to an endpoint could not be opened, so the request never left
 * this process (safe to send again, even for a write).
 */
export class EndpointUnavailableError extends UnavailableError {}
/** DeadlineExceededError: the call's deadline passed before an answer arrived. */
export class DeadlineExceededError extends EtcdError {
  constructor(message = "context deadline exceeded", options?: { cause?: unknown }) {
    super(message, Code.DeadlineExceeded, options);
  }
}
/** CanceledError: the call was cancelled (its AbortSignal fired, or the client was closed). */
export class CanceledError extends EtcdError {
  constructor(message = "context canceled", options?: { cause?: unknown }) {
    super(message, Code.Canceled, options);
  }
}
/** ClientClosedError: the client was closed; no more calls can be made with it. */
export class ClientClosedError extends CanceledError {
  constructor() {
    super("etcd-ts client: client is closed");
  }
}

// ---- errors with etcd's exact messages ----

/** EmptyKeyError: "etcdserver: key is not provided". */
export class EmptyKeyError extends EtcdError {}
/** KeyNotFoundError: "etcdserver: key not found" (ignore_value / ignore_lease on a missing key). */
export class KeyNotFoundError extends EtcdError {}
/** ValueProvidedError: "etcdserver: value is provided" (ignore_value together with a value). */
export class ValueProvidedError extends EtcdError {}
/** LeaseProvidedError: "etcdserver: lease is provided" (ignore_lease together with a lease). */
export class LeaseProvidedError extends EtcdError {}
/** TooManyOpsError: "etcdserver: too many operations in txn request". */
export class TooManyOpsError extends EtcdError {}
/** DuplicateKeyError: "etcdserver: duplicate key given in txn request". */
export class DuplicateKeyError extends EtcdError {}
/** InvalidSortOptionError: "etcdserver: invalid sort option". */
export class InvalidSortOptionError extends EtcdError {}
/** RequestTooLargeError: "etcdserver: request is too large". */
export class RequestTooLargeError extends EtcdError {}
/** CompactedError: "etcdserver: mvcc: required revision has been compacted". */
export class CompactedError extends EtcdError {}
/** FutureRevisionError: "etcdserver: mvcc: required revision is a future revision". */
export class FutureRevisionError extends EtcdError {}
/** NoSpaceError: "etcdserver: mvcc: database space exceeded" (the NOSPACE alarm is raised). */
export class NoSpaceError extends EtcdError {}
/** TooManyRequestsError: "etcdserver: too many requests" (the member's apply lags too far behind). */
export class TooManyRequestsError extends EtcdError {}
/** LeaseNotFoundError: "etcdserver: requested lease not found". */
export class LeaseNotFoundError extends EtcdError {}
/** LeaseExistsError: "etcdserver: lease already exists". */
export class LeaseExistsError extends EtcdError {}
/** LeaseTTLTooLargeError: "etcdserver: too large lease TTL". */
export class LeaseTTLTooLargeError extends EtcdError {}
/** MemberExistsError: "etcdserver: member ID already exist". */
export class MemberExistsError extends EtcdError {}
/** PeerURLExistsError: "etcdserver: Peer URLs already exists". */
export class PeerURLExistsError extends EtcdError {}
/** NotEnoughStartedMembersError: "etcdserver: re-configuration failed due to not enough started members". */
export class NotEnoughStartedMembersError extends EtcdError {}
/** MemberBadURLsError: "etcdserver: given member URLs are invalid". */
export class MemberBadURLsError extends EtcdError {}
/** MemberNotFoundError: "etcdserver: member not found". */
export class MemberNotFoundError extends EtcdError {}
/** MemberNotLearnerError: "etcdserver: can only promote a learner member". */
export class MemberNotLearnerError extends EtcdError {}
/** LearnerNotReadyError: "etcdserver: can only promote a learner member which is in sync with leader". */
export class LearnerNotReadyError extends EtcdError {}
/** TooManyLearnersError: "etcdserver: too many learner members in cluster". */
export class TooManyLearnersError extends EtcdError {}
/** NotSupportedForLearnerError: "etcdserver: rpc not supported for learner". */
export class NotSupportedForLearnerError extends EtcdError {}
/** RootUserNotExistError: "etcdserver: root user does not exist". */
export class RootUserNotExistError extends EtcdError {}
/** RootRoleNotExistError: "etcdserver: root user does not have root role". */
export class RootRoleNotExistError extends EtcdError {}
/** UserExistsError: "etcdserver: user name already exists". */
export class UserExistsError extends EtcdError {}
/** UserEmptyError: "etcdserver: user name is empty". */
export class UserEmptyError extends EtcdError {}
/** UserNotFoundError: "etcdserver: user name not found". */
export class UserNotFoundError extends EtcdError {}
/** RoleExistsError: "etcdserver: role name already exists". */
export class RoleExistsError extends EtcdError {}
/** RoleNotFoundError: "etcdserver: role name not found". */
export class RoleNotFoundError extends EtcdError {}
/** RoleEmptyError: "etcdserver: role name is empty". */
export class RoleEmptyError extends EtcdError {}
/** AuthFailedError: "etcdserver: authentication failed, invalid user ID or password". */
export class AuthFailedError extends EtcdError {}
/** PermissionNotGivenError: "etcdserver: permission not given". */
export class PermissionNotGivenError extends EtcdError {}
/** PermissionDeniedError: "etcdserver: permission denied". */
export class PermissionDeniedError extends EtcdError {}
/** RoleNotGrantedError: "etcdserver: role is not granted to the user". */
export class RoleNotGrantedError extends EtcdError {}
/** PermissionNotGrantedError: "etcdserver: permission is not granted to the role". */
export class PermissionNotGrantedError extends EtcdError {}
/** AuthNotEnabledError: "etcdserver: authentication is not enabled". */
export class AuthNotEnabledError extends EtcdError {}
/** InvalidAuthTokenError: "etcdserver: invalid auth token" (the client re-authenticates once and retries). */
export class InvalidAuthTokenError extends EtcdError {}
/** InvalidAuthManagementError: "etcdserver: invalid auth management". */
export class InvalidAuthManagementError extends EtcdError {}
/** AuthOldRevisionError: "etcdserver: revision of auth store is old" (re-authenticated and retried once). */
export class AuthOldRevisionError extends EtcdError {}
/** NoLeaderError: "etcdserver: no leader". */
export class NoLeaderError extends UnavailableError {}
/** NotLeaderError: "etcdserver: not leader". */
export class NotLeaderError extends EtcdError {}
/** LeaderChangedError: "etcdserver: leader changed". */
export class LeaderChangedError extends UnavailableError {}
/** NotCapableError: "etcdserver: not capable". */
export class NotCapableError extends EtcdError {}
/** ServerStoppedError: "etcdserver: server stopped". */
export class ServerStoppedError extends UnavailableError {}
/** RequestTimeoutError: "etcdserver: request timed out" (and its "possibly due to ..." variants). */
export class RequestTimeoutError extends UnavailableError {}
/** UnhealthyClusterError: "etcdserver: unhealthy cluster". */
export class UnhealthyClusterError extends UnavailableError {}
/** CorruptClusterError: "etcdserver: corrupt cluster". */
export class CorruptClusterError extends EtcdError {}
/** BadLeaderTransfereeError: "etcdserver: bad leader transferee". */
export class BadLeaderTransfereeError extends EtcdError {}

// ---- client-side conditions ----

/**
 * WatchCompactedError: a watch asked for (or fell behind to) a revision that has been compacted away; the
 * history it needs is gone. `compactRevision` is the oldest revision still available, so a caller can re-read
 * the current state and watch again from there.
 */
export class WatchCompactedError extends CompactedError {
  /** compactRevision is the compaction revision the server reported. */
  readonly compactRevision: bigint;
  constructor(compactRevision: bigint) {
    super("etcdserver: mvcc: required revision has been compacted", Code.OutOfRange);
    this.compactRevision = compactRevision;
  }
}
/** WatchCanceledError: the server cancelled a watch for a reason other than compaction (e.g. permissions). */
export class WatchCanceledError extends EtcdError {
  constructor(reason: string) {
    super(reason === "" ? "etcdserver: watch canceled" : reason, Code.Canceled);
  }
}
/**
 * LeaseLostError: a kept-alive lease is gone: the server answered a keep-alive with TTL 0 (it expired or was
 * revoked), or no keep-alive succeeded before the lease's TTL ran out.
 */
export class LeaseLostError extends EtcdError {
  /** leaseId is the lease that was lost. */
  readonly leaseId: bigint;
  constructor(leaseId: bigint, why: string) {
    super(`etcd-ts client: lease ${leaseId.toString(16)} lost: ${why}`, Code.NotFound);
    this.leaseId = leaseId;
  }
}
/** SessionExpiredError: a concurrency session's lease is gone, so locks and leadership held with it are lost. */
export class SessionExpiredError extends EtcdError {
  constructor() {
    super("etcd-ts client: session expired", Code.FailedPrecondition);
  }
}
/** NotLeaderOfElectionError: proclaim/resign on an election this candidate does not lead. */
export class NotLeaderOfElectionError extends EtcdError {
  constructor() {
    super("election: not leader", Code.FailedPrecondition);
  }
}
/** NoElectionLeaderError: the election has no leader (etcd's "election: no leader"). */
export class NoElectionLeaderError extends EtcdError {
  constructor() {
    super("election: no leader", Code.NotFound);
  }
}
/** LockedError: TryLock found the mutex held by another session (etcd's "mutex: Locked by another session"). */
export class LockedError extends EtcdError {
  constructor() {
    super("mutex: Locked by another session", Code.FailedPrecondition);
  }
}

type EtcdErrorClass = new (message: string, code: Code, options?: { cause?: unknown }) => EtcdError;

/** byMessage maps each exact etcd message to its class. */
const byMessage = new Map<string, EtcdErrorClass>([
  ["etcdserver: key is not provided", EmptyKeyError],
  ["etcdserver: key not found", KeyNotFoundError],
  ["etcdserver: value is provided", ValueProvidedError],
  ["etcdserver: lease is provided", LeaseProvidedError],
  ["etcdserver: too many operations in txn request", TooManyOpsError],
  ["etcdserver: duplicate key given in txn request", DuplicateKeyError],
  ["etcdserver: invalid sort option", InvalidSortOptionError],
  ["etcdserver: request is too large", RequestTooLargeError],
  ["etcdserver: mvcc: required revision has been compacted", CompactedError],
  ["etcdserver: mvcc: required revision is a future revision", FutureRevisionError],
  ["etcdserver: mvcc: database space exceeded", NoSpaceError],
  ["etcdserver: too many requests", TooManyRequestsError],
  ["etcdserver: requested lease not found", LeaseNotFoundError],
  ["etcdserver: lease already exists", LeaseExistsError],
  ["etcdserver: too large lease TTL", LeaseTTLTooLargeError],
  ["etcdserver: member ID already exist", MemberExistsError],
  ["etcdserver: Peer URLs already exists", PeerURLExistsError],
  ["etcdserver: re-configuration failed due to not enough started members", NotEnoughStartedMembersError],
  ["etcdserver: given member URLs are invalid", MemberBadURLsError],
  ["etcdserver: member not found", MemberNotFoundError],
  ["etcdserver: can only promote a learner member", MemberNotLearnerError],
  ["etcdserver: can only promote a learner member which is in sync with leader", LearnerNotReadyError],
  ["etcdserver: too many learner members in cluster", TooManyLearnersError],
  ["etcdserver: rpc not supported for learner", NotSupportedForLearnerError],
  ["etcdserver: root user does not exist", RootUserNotExistError],
  ["etcdserver: root user does not have root role", RootRoleNotExistError],
  ["etcdserver: user name already exists", UserExistsError],
  ["etcdserver: user name is empty", UserEmptyError],
  ["etcdserver: user name not found", UserNotFoundError],
  ["etcdserver: role name already exists", RoleExistsError],
  ["etcdserver: role name not found", RoleNotFoundError],
  ["etcdserver: role name is empty", RoleEmptyError],
  ["etcdserver: authentication failed, invalid user ID or password", AuthFailedError],
  ["etcdserver: permission not given", PermissionNotGivenError],
  ["etcdserver: permission denied", PermissionDeniedError],
  ["etcdserver: role is not granted to the user", RoleNotGrantedError],
  ["etcdserver: permission is not granted to the role", PermissionNotGrantedError],
  ["etcdserver: authentication is not enabled", AuthNotEnabledError],
  ["etcdserver: invalid auth token", InvalidAuthTokenError],
  ["etcdserver: invalid auth management", InvalidAuthManagementError],
  ["etcdserver: revision of auth store is old", AuthOldRevisionError],
  ["etcdserver: no leader", NoLeaderError],
  ["etcdserver: not leader", NotLeaderError],
  ["etcdserver: leader changed", LeaderChangedError],
  ["etcdserver: not capable", NotCapableError],
  ["etcdserver: server stopped", ServerStoppedError],
  ["etcdserver: request timed out", RequestTimeoutError],
  ["etcdserver: request timed out, possibly due to previous leader failure", RequestTimeoutError],
  ["etcdserver: request timed out, possibly due to connection lost", RequestTimeoutError],
  ["etcdserver: request timed out, waiting for the applied index took too long", RequestTimeoutError],
  ["etcdserver: unhealthy cluster", UnhealthyClusterError],
  ["etcdserver: corrupt cluster", CorruptClusterError],
  ["etcdserver: bad leader transferee", BadLeaderTransfereeError],
]);

/** Socket error codes that mean an established connection broke (the request may or may not have arrived). */
const brokenConnectionCodes = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** Socket error codes that mean the connection was never established, so nothing was sent. */
const notConnectedCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

function causeCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * toEtcdError converts anything a call threw into an EtcdError: etcd's exact message picks the class; unknown
 * messages fall back to the gRPC code (Unavailable, DeadlineExceeded, Canceled) or the base class.
 */
export function toEtcdError(err: unknown): EtcdError {
  if (err instanceof EtcdError) return err;
  const connectError = ConnectError.from(err);
  const message = connectError.rawMessage;
  const known = byMessage.get(message);
  if (known !== undefined) return new known(message, connectError.code, { cause: err });
  const sock = causeCode(connectError.cause);
  if (sock !== undefined && brokenConnectionCodes.has(sock)) {
    // connect-node reports a reset connection as Aborted or Internal; to a caller it is an unavailable member.
    return new UnavailableError(message, Code.Unavailable, { cause: err });
  }
  switch (connectError.code) {
    case Code.Unavailable: {
      if (sock !== undefined && notConnectedCodes.has(sock)) {
        return new EndpointUnavailableError(message, Code.Unavailable, { cause: err });
      }
      return new UnavailableError(message, Code.Unavailable, { cause: err });
    }
    case Code.DeadlineExceeded:
      return new DeadlineExceededError(message, { cause: err });
    case Code.Canceled:
      return new CanceledError(message, { cause: err });
    case Code.PermissionDenied:
      return new PermissionDeniedError(message, connectError.code, { cause: err });
    default:
      return new EtcdError(message, connectError.code, { cause: err });
  }
}
