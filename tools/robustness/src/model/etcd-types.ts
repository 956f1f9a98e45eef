/**
 * The etcd operations the checker understands, in a plain JSON-friendly form (revisions and lease ids as
 * numbers: they are safe integers in any run this tool makes; the client edge asserts it).
 */

/** Compare is one txn guard on one key (etcd's Compare, the targets the traffic uses). */
export interface Compare {
  readonly key: string;
  readonly target: "value" | "mod" | "create" | "version" | "lease";
  readonly result: "=" | "!=" | "<" | ">";
  /** value is a string for target "value", a number otherwise. */
  readonly value: string | number;
}

/** TxnOp is one request inside a txn branch. */
export type TxnOp =
  | { readonly type: "range"; readonly key: string; readonly end?: string }
  | { readonly type: "put"; readonly key: string; readonly value: string; readonly lease?: number }
  | { readonly type: "delete"; readonly key: string };

/** EtcdRequest is a client request as recorded in a history. */
export type EtcdRequest =
  /** range reads `key` (or [key, end) when `end` is set) now, or at `revision` (a stale read) when set. */
  | { readonly type: "range"; readonly key: string; readonly end?: string; readonly revision?: number }
  | { readonly type: "put"; readonly key: string; readonly value: string; readonly lease?: number }
  | { readonly type: "delete"; readonly key: string }
  | {
      readonly type: "txn";
      readonly compare: readonly Compare[];
      readonly success: readonly TxnOp[];
      readonly failure: readonly TxnOp[];
    }
  | { readonly type: "leaseGrant"; readonly ttlSeconds: number }
  | { readonly type: "leaseRevoke"; readonly lease: number };

/** KeyValue is mvccpb.KeyValue as the model sees it (lease 0 = none). */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: number;
}

/** TxnResult is the answer to one TxnOp. */
export type TxnResult =
  | { readonly type: "range"; readonly kvs: readonly KeyValue[] }
  | { readonly type: "put" }
  | { readonly type: "delete"; readonly deleted: number };

/**
 * EtcdResponse is a definite answer. `revision` is the response header revision. A failure whose outcome
 * is unknown (timeout, unavailable, connection cut) is not a response: the operation's output is
 * undefined. "lease not found" is a definite failure (nothing was applied) the model checks.
 */
export type EtcdResponse =
  | { readonly type: "range"; readonly revision: number; readonly kvs: readonly KeyValue[] }
  | { readonly type: "put"; readonly revision: number }
  | { readonly type: "delete"; readonly revision: number; readonly deleted: number }
  | {
      readonly type: "txn";
      readonly revision: number;
      readonly succeeded: boolean;
      readonly results: readonly TxnResult[];
    }
  | { readonly type: "leaseGrant"; readonly revision: number; readonly lease: number }
  | { readonly type: "leaseRevoke"; readonly revision: number }
  | { readonly type: "error"; readonly error: "lease not found" };

/** keyInRange tells whether `key` is read by a range over `key0` (alone, or [key0, end) with `end`). */
export function keyInRange(key: string, key0: string, end: string | undefined): boolean {
  if (end === undefined) return key === key0;
  if (end === "\0") return key >= key0;
  return key >= key0 && key < end;
}
