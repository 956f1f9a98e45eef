/**
 * How etcdctl 3.4 spells a failed RPC. clientv3 turns a gRPC status whose message is one of etcd's own
 * ("etcdserver: ...") into that message alone; any other status stays "rpc error: code = X desc = Y".
 */

/** Code is the gRPC status code (Connect uses the same numbers). */
export const Code = {
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

const GO_CODE_NAMES: Record<number, string> = {
  [Code.Canceled]: "Canceled",
  [Code.Unknown]: "Unknown",
  [Code.InvalidArgument]: "InvalidArgument",
  [Code.DeadlineExceeded]: "DeadlineExceeded",
  [Code.NotFound]: "NotFound",
  [Code.AlreadyExists]: "AlreadyExists",
  [Code.PermissionDenied]: "PermissionDenied",
  [Code.ResourceExhausted]: "ResourceExhausted",
  [Code.FailedPrecondition]: "FailedPrecondition",
  [Code.Aborted]: "Aborted",
  [Code.OutOfRange]: "OutOfRange",
  [Code.Unimplemented]: "Unimplemented",
  [Code.Internal]: "Internal",
  [Code.Unavailable]: "Unavailable",
  [Code.DataLoss]: "DataLoss",
  [Code.Unauthenticated]: "Unauthenticated",
};

/** RpcFailure is a failed call reduced to what etcdctl prints about it. */
export interface RpcFailure {
  code: number;
  /** desc is the status message as the server sent it. */
  desc: string;
  /** fromServer is false for failures decided in this process (deadline, dial). */
  fromServer: boolean;
}

interface CodedError {
  code: number;
  message: string;
  rawMessage?: string;
  cause?: unknown;
}

function isCoded(err: unknown): err is CodedError {
  const e = err as Partial<CodedError> | null;
  return typeof e === "object" && e !== null && typeof e.code === "number" && typeof e.message === "string";
}

/**
 * toRpcFailure extracts code and message from whatever a call threw: @etcd-ts/client's EtcdError (code and
 * etcd's message, the Connect error as its cause) or a Connect error (code and rawMessage).
 */
export function toRpcFailure(err: unknown): RpcFailure {
  if (!isCoded(err))
    return { code: Code.Unknown, desc: String((err as Error)?.message ?? err), fromServer: false };
  if (typeof err.rawMessage === "string") return { code: err.code, desc: err.rawMessage, fromServer: true };
  const cause = isCoded(err.cause) && typeof err.cause.rawMessage === "string" ? err.cause : undefined;
  return { code: err.code, desc: cause?.rawMessage ?? err.message, fromServer: cause !== undefined };
}

/** grpcStatusText is Go's status error text: "rpc error: code = NotFound desc = ...". */
export function grpcStatusText(f: RpcFailure): string {
  return `rpc error: code = ${GO_CODE_NAMES[f.code] ?? "Unknown"} desc = ${f.desc}`;
}

/** etcdctlErrorText is what etcdctl prints after "Error: " for a failed call. */
export function etcdctlErrorText(f: RpcFailure): string {
  if (f.desc.startsWith("etcdserver: ")) return f.desc;
  if (f.code === Code.DeadlineExceeded) return "context deadline exceeded";
  if (f.code === Code.Canceled) return "context canceled";
  return grpcStatusText(f);
}
