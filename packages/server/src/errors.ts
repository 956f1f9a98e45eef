import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The ONE table of etcd's client-facing errors: the exact `etcdserver: ...` text clients match on, and the
 * gRPC code etcd sends it with (etcd `api/v3rpc/rpctypes/error.go`). Errors thrown by the packages below
 * (mvcc, lease, auth) carry the same text, with or without the `etcdserver: ` prefix; `toConnectError` maps
 * them through this table.
 */
const errorCodes: ReadonlyMap<string, Code> = new Map<string, Code>([
  // KV and requests
  ["etcdserver: key is not provided", Code.InvalidArgument],
  ["etcdserver: key not found", Code.InvalidArgument],
  ["etcdserver: value is provided", Code.InvalidArgument],
  ["etcdserver: lease is provided", Code.InvalidArgument],
  ["etcdserver: too many operations in txn request", Code.InvalidArgument],
  ["etcdserver: duplicate key given in txn request", Code.InvalidArgument],
  ["etcdserver: invalid sort option", Code.InvalidArgument],
  ["etcdserver: request is too large", Code.InvalidArgument],
  ["etcdserver: mvcc: required revision has been compacted", Code.OutOfRange],
  ["etcdserver: mvcc: required revision is a future revision", Code.OutOfRange],
  ["etcdserver: too large lease TTL", Code.OutOfRange],
  ["etcdserver: mvcc: database space exceeded", Code.ResourceExhausted],
  ["etcdserver: too many requests", Code.ResourceExhausted],
  // Lease
  ["etcdserver: requested lease not found", Code.NotFound],
  ["etcdserver: lease already exists", Code.FailedPrecondition],
  // Cluster
  ["etcdserver: member ID already exist", Code.FailedPrecondition],
  ["etcdserver: Peer URLs already exists", Code.FailedPrecondition],
  ["etcdserver: member not found", Code.NotFound],
  ["etcdserver: unhealthy cluster", Code.Unavailable],
  // etcd 3.4 maps this one to rpctypes.ErrMemberNotEnoughStarted, a client-side error value rather than a gRPC
  // status, so grpc-go sends it with code Unknown (and its text); etcdctl prints "code = Unknown".
  ["etcdserver: re-configuration failed due to not enough started members", Code.Unknown],
  ["etcdserver: can only promote a learner member", Code.FailedPrecondition],
  ["etcdserver: can only promote a learner member which is in sync with leader", Code.FailedPrecondition],
  ["etcdserver: too many learner members in cluster", Code.FailedPrecondition],
  ["etcdserver: member id is not a learner", Code.FailedPrecondition],
  // Unavailable, so that clients retry it on another endpoint (etcdctl retries until its command timeout).
  ["etcdserver: rpc not supported for learner", Code.Unavailable],
  ["etcdserver: not leader", Code.FailedPrecondition],
  ["etcdserver: not capable", Code.FailedPrecondition],
  ["etcdserver: bad leader transferee", Code.FailedPrecondition],
  ["etcdserver: leader changed", Code.Unavailable],
  ["etcdserver: no leader", Code.Unavailable],
  ["etcdserver: server stopped", Code.Unavailable],
  ["etcdserver: request timed out", Code.Unavailable],
  ["etcdserver: request timed out, possibly due to previous leader failure", Code.Unavailable],
  ["etcdserver: request timed out, possibly due to connection lost", Code.Unavailable],
  ["etcdserver: request cancelled", Code.Canceled],
  ["etcdserver: corrupt cluster", Code.DataLoss],
  ["etcdserver: cluster ID mismatch", Code.FailedPrecondition],
  // Auth
  ["etcdserver: root user does not exist", Code.FailedPrecondition],
  ["etcdserver: root user does not have root role", Code.FailedPrecondition],
  ["etcdserver: user name already exists", Code.FailedPrecondition],
  ["etcdserver: user name is empty", Code.InvalidArgument],
  ["etcdserver: user name not found", Code.FailedPrecondition],
  ["etcdserver: role name already exists", Code.FailedPrecondition],
  ["etcdserver: role name not found", Code.FailedPrecondition],
  ["etcdserver: role name is empty", Code.InvalidArgument],
  ["etcdserver: authentication failed, invalid user ID or password", Code.InvalidArgument],
  ["etcdserver: permission not given", Code.InvalidArgument],
  ["etcdserver: permission denied", Code.PermissionDenied],
  ["etcdserver: role is not granted to the user", Code.FailedPrecondition],
  ["etcdserver: permission is not granted to the role", Code.FailedPrecondition],
  ["etcdserver: authentication is not enabled", Code.FailedPrecondition],
  ["etcdserver: invalid auth token", Code.Unauthenticated],
  ["etcdserver: invalid auth management", Code.InvalidArgument],
  ["etcdserver: revision of auth store is old", Code.InvalidArgument],
  ["etcdserver: password is too short", Code.InvalidArgument],
  // Not in etcd's gRPC table: sent with code Unknown and its own text.
  ["auth: authentication failed, password was given for no password user", Code.Unknown],
  // Maintenance
  ["etcdserver: no space", Code.ResourceExhausted],
  ["etcdserver: invalid downgrade target version", Code.InvalidArgument],
  ["etcdserver: cluster has a downgrade job in progress", Code.FailedPrecondition],
  ["etcdserver: no inflight downgrade job", Code.FailedPrecondition],
]);

/**
 * EtcdError is an operating error with etcd's message text; the server sends it with its gRPC code. Without
 * a code, the message is one of the table's (the `etcdserver: ` prefix is added if missing); with a code,
 * the message is sent as given (for texts outside the table, such as the election API's).
 */
export class EtcdError extends Error {
  override readonly name = "EtcdError";
  /** code is the gRPC status code clients get. */
  readonly code: Code;
  constructor(message: string, code?: Code) {
    const text =
      code !== undefined || message.startsWith("etcdserver: ") ? message : `etcdserver: ${message}`;
    super(text);
    this.code = code ?? errorCodes.get(text) ?? Code.Unknown;
  }
}

/** errorCode returns the gRPC code etcd uses for the given message text, or undefined if it has none. */
export function errorCode(message: string): Code | undefined {
  const text = message.startsWith("etcdserver: ") ? message : `etcdserver: ${message}`;
  return errorCodes.get(text);
}

/**
 * toConnectError turns anything thrown below the API layer into what the client sees: a known etcd message
 * keeps its text and gets etcd's code; a ConnectError passes through; anything else is an internal error
 * (its text is kept for the operator, but the code says the server failed, not the request).
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof EtcdError) return new ConnectError(err.message, err.code);
  if (err instanceof Error) {
    const raw = errorCodes.get(err.message);
    if (raw !== undefined) return new ConnectError(err.message, raw);
    const text = err.message.startsWith("etcdserver: ") ? err.message : `etcdserver: ${err.message}`;
    const code = errorCodes.get(text);
    if (code !== undefined) return new ConnectError(text, code);
    return new ConnectError(err.message, Code.Internal);
  }
  return new ConnectError(String(err), Code.Internal);
}

/** Errors the server raises itself, by name, so that call sites do not spell the text twice. */
export const errors = {
  keyNotProvided: () => new EtcdError("etcdserver: key is not provided"),
  tooManyOps: () => new EtcdError("etcdserver: too many operations in txn request"),
  duplicateKey: () => new EtcdError("etcdserver: duplicate key given in txn request"),
  requestTooLarge: () => new EtcdError("etcdserver: request is too large"),
  tooManyRequests: () => new EtcdError("etcdserver: too many requests"),
  noSpace: () => new EtcdError("etcdserver: mvcc: database space exceeded"),
  noLeader: () => new EtcdError("etcdserver: no leader"),
  notLeader: () => new EtcdError("etcdserver: not leader"),
  leaderChanged: () => new EtcdError("etcdserver: leader changed"),
  stopped: () => new EtcdError("etcdserver: server stopped"),
  timeout: () => new EtcdError("etcdserver: request timed out"),
  memberNotFound: () => new EtcdError("etcdserver: member not found"),
  permissionDenied: () => new EtcdError("etcdserver: permission denied"),
  invalidAuthToken: () => new EtcdError("etcdserver: invalid auth token"),
  userEmpty: () => new EtcdError("etcdserver: user name is empty"),
  authFailed: () => new EtcdError("etcdserver: authentication failed, invalid user ID or password"),
  authNotEnabled: () => new EtcdError("etcdserver: authentication is not enabled"),
  badLeaderTransferee: () => new EtcdError("etcdserver: bad leader transferee"),
  invalidSortOption: () => new EtcdError("etcdserver: invalid sort option"),
} as const;
