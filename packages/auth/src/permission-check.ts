import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from "@etcd-ts/proto/etcdserverpb";
import { assert } from "./assert.js";
import { AuthError } from "./errors.js";
import { type KeyInterval, pointInterval, requestInterval } from "./key-interval.js";
import type { UserPermissions } from "./range-perm-cache.js";
import type { AuthInfo } from "./token-provider.js";

/**
 * PermissionState is what a permission check reads: the auth store implements it, tests may too. Every
 * check is a pure function of this state and the request.
 */
export interface PermissionState {
  /** enabled tells whether auth is on; when off every request is allowed. */
  readonly enabled: boolean;
  /** revision is the current auth revision. */
  readonly revision: number;
  /** userHasRootRole is undefined when the user does not exist. */
  userHasRootRole(username: string): boolean | undefined;
  /** userHasRole tells whether an existing user has been granted `role`. */
  userHasRole(username: string, role: string): boolean;
  /** userPermissions is the user's merged key permissions, undefined when the user does not exist. */
  userPermissions(username: string): UserPermissions | undefined;
}

/** LeaseKeysLookup lists the keys currently attached to a lease (none for an unknown lease). */
export type LeaseKeysLookup = (leaseId: bigint) => Iterable<Uint8Array>;

/** AccessKind is what a key check asks for. */
export type AccessKind = "read" | "write";

/**
 * CheckedRequest is every kind of client request the auth layer decides on, as one union so that the
 * server dispatches all of them through {@link checkRequest}:
 * - `range`, `put`, `deleteRange`, `txn`: the KV requests (a put's lease is checked against `leaseKeys`);
 * - `watch`: the whole watched range;
 * - `leaseRevoke`: every key attached to the lease must be writable (the caller lists them), and the
 *   caller must be an authenticated user even when no key is attached;
 * - `leaseTimeToLive`: every attached key must be readable (CVE-2023-32082), with or without `keys`;
 * - `authenticated`: calls that touch no key but must not be open to anonymous clients while auth is on
 *   (LeaseGrant, LeaseKeepAlive, LeaseLeases, MemberList: the bypasses of GHSA-q8m4-xhhv-38mg); any known
 *   user at the current auth revision may make them;
 * - `admin`: compaction, member, alarm, defragment, snapshot, hash, move-leader, downgrade and auth
 *   management calls, which only a user with the root role may make;
 * - `userGet` / `roleGet`: admin, or a user reading itself / a role it has.
 */
export type CheckedRequest =
  | { readonly kind: "range"; readonly request: RangeRequest }
  | { readonly kind: "put"; readonly request: PutRequest; readonly leaseKeys: LeaseKeysLookup }
  | { readonly kind: "deleteRange"; readonly request: DeleteRangeRequest }
  | { readonly kind: "txn"; readonly request: TxnRequest; readonly leaseKeys: LeaseKeysLookup }
  | { readonly kind: "watch"; readonly key: Uint8Array; readonly rangeEnd: Uint8Array }
  | { readonly kind: "leaseRevoke"; readonly attachedKeys: Iterable<Uint8Array> }
  | { readonly kind: "leaseTimeToLive"; readonly keys: boolean; readonly attachedKeys: Iterable<Uint8Array> }
  | { readonly kind: "authenticated"; readonly operation: string }
  | { readonly kind: "admin"; readonly operation: string }
  | { readonly kind: "userGet"; readonly name: string }
  | { readonly kind: "roleGet"; readonly role: string };

/**
 * Authorizer is the state of one check: the caller's identity resolved against the store once (auth on,
 * user known, revision current, root or not), then asked about any number of key intervals.
 */
interface Authorizer {
  /** all is true when no key check is needed (auth off, or the user has the root role). */
  readonly all: boolean;
  readonly perms: UserPermissions | undefined;
}

function authorize(state: PermissionState, authInfo: AuthInfo | undefined): Authorizer {
  if (!state.enabled) return { all: true, perms: undefined };
  if (authInfo === undefined || authInfo.username === "" || authInfo.revision === 0) {
    throw new AuthError("userEmpty");
  }
  if (authInfo.revision < state.revision) throw new AuthError("authOldRevision");
  const root = state.userHasRootRole(authInfo.username);
  if (root === undefined) throw new AuthError("permissionDenied", "no such user");
  if (root) return { all: true, perms: undefined };
  const perms = state.userPermissions(authInfo.username);
  assert(perms !== undefined, "an existing user must have merged permissions");
  return { all: false, perms };
}

function require(authz: Authorizer, ivl: KeyInterval, access: AccessKind): void {
  if (authz.all) return;
  const perms = authz.perms as UserPermissions;
  const set = access === "read" ? perms.read : perms.write;
  if (!set.covers(ivl)) throw new AuthError("permissionDenied");
}

/**
 * checkRangePermitted allows a read of (key, rangeEnd) when auth is off, the user has the root role, or the
 * user's read permissions cover every key of the range. Throws `userEmpty`, `authOldRevision` or
 * `permissionDenied`.
 */
export function checkRangePermitted(
  state: PermissionState,
  authInfo: AuthInfo | undefined,
  key: Uint8Array,
  rangeEnd: Uint8Array,
): void {
  require(authorize(state, authInfo), requestInterval(key, rangeEnd), "read");
}

/** checkPutPermitted allows a write of one key; see {@link checkRangePermitted} for the rules. */
export function checkPutPermitted(
  state: PermissionState,
  authInfo: AuthInfo | undefined,
  key: Uint8Array,
): void {
  require(authorize(state, authInfo), pointInterval(key), "write");
}

/** checkDeleteRangePermitted allows a delete of (key, rangeEnd) when the user may write every key of it. */
export function checkDeleteRangePermitted(
  state: PermissionState,
  authInfo: AuthInfo | undefined,
  key: Uint8Array,
  rangeEnd: Uint8Array,
): void {
  require(authorize(state, authInfo), requestInterval(key, rangeEnd), "write");
}

/**
 * checkAdminPermitted allows an admin-only call when auth is off or the user has the root role. Throws
 * `userEmpty` without a user, `userNotFound` for an unknown one, `permissionDenied` otherwise.
 */
export function checkAdminPermitted(state: PermissionState, authInfo: AuthInfo | undefined): void {
  if (!state.enabled) return;
  if (authInfo === undefined || authInfo.username === "") throw new AuthError("userEmpty");
  const root = state.userHasRootRole(authInfo.username);
  if (root === undefined) throw new AuthError("userNotFound");
  if (!root) throw new AuthError("permissionDenied");
}

function checkPutOp(authz: Authorizer, put: PutRequest, leaseKeys: LeaseKeysLookup): void {
  require(authz, pointInterval(put.key), "write");
  // prev_kv returns the old value: that is a read.
  if (put.prevKv) require(authz, pointInterval(put.key), "read");
  // Attaching a key to a lease lets the lease's revocation delete the other keys on it, so the user must
  // be able to write every key already attached (GHSA-x35m-3gp4-4fh5 covers this inside a txn too).
  if (put.lease !== 0n) {
    for (const attached of leaseKeys(put.lease)) require(authz, pointInterval(attached), "write");
  }
}

function checkDeleteRangeOp(authz: Authorizer, del: DeleteRangeRequest): void {
  const ivl = requestInterval(del.key, del.rangeEnd);
  require(authz, ivl, "write");
  if (del.prevKv) require(authz, ivl, "read");
}

function checkCompare(authz: Authorizer, compare: Compare): void {
  require(authz, requestInterval(compare.key, compare.rangeEnd), "read");
}

function checkOps(authz: Authorizer, ops: readonly RequestOp[], leaseKeys: LeaseKeysLookup): void {
  for (const op of ops) {
    const r = op.request;
    switch (r.case) {
      case "requestRange":
        require(authz, requestInterval(r.value.key, r.value.rangeEnd), "read");
        break;
      case "requestPut":
        checkPutOp(authz, r.value, leaseKeys);
        break;
      case "requestDeleteRange":
        checkDeleteRangeOp(authz, r.value);
        break;
      case "requestTxn":
        checkTxnBody(authz, r.value, leaseKeys);
        break;
      case undefined:
        break;
      default: {
        const never: never = r;
        assert(false, `unknown txn op ${String(never)}`);
      }
    }
  }
}

function checkTxnBody(authz: Authorizer, txn: TxnRequest, leaseKeys: LeaseKeysLookup): void {
  // Both branches are checked whatever the compares would decide: the outcome must not depend on data.
  for (const compare of txn.compare) checkCompare(authz, compare);
  checkOps(authz, txn.success, leaseKeys);
  checkOps(authz, txn.failure, leaseKeys);
}

/**
 * checkTxnPermitted checks every compare (read), every op of both branches, and every op of every nested
 * txn: range reads, put writes (plus a read for prev_kv, plus writes on every key of an attached lease),
 * delete-range writes (plus a read for prev_kv).
 */
export function checkTxnPermitted(
  state: PermissionState,
  authInfo: AuthInfo | undefined,
  txn: TxnRequest,
  leaseKeys: LeaseKeysLookup,
): void {
  checkTxnBody(authorize(state, authInfo), txn, leaseKeys);
}

/**
 * checkRequest decides any {@link CheckedRequest}; it returns normally when the request is allowed and
 * throws the {@link AuthError} etcd would return otherwise.
 */
export function checkRequest(
  state: PermissionState,
  authInfo: AuthInfo | undefined,
  req: CheckedRequest,
): void {
  switch (req.kind) {
    case "range":
      require(authorize(state, authInfo), requestInterval(req.request.key, req.request.rangeEnd), "read");
      return;
    case "put":
      checkPutOp(authorize(state, authInfo), req.request, req.leaseKeys);
      return;
    case "deleteRange":
      checkDeleteRangeOp(authorize(state, authInfo), req.request);
      return;
    case "txn":
      checkTxnBody(authorize(state, authInfo), req.request, req.leaseKeys);
      return;
    case "watch":
      require(authorize(state, authInfo), requestInterval(req.key, req.rangeEnd), "read");
      return;
    case "leaseRevoke": {
      const authz = authorize(state, authInfo);
      for (const key of req.attachedKeys) require(authz, pointInterval(key), "write");
      return;
    }
    case "leaseTimeToLive": {
      // As in etcd since the fix for CVE-2023-32082: read on every attached key whether or not the keys are
      // asked for, so a user learns nothing (not even the TTL) about a lease holding keys it may not read.
      const authz = authorize(state, authInfo);
      for (const key of req.attachedKeys) require(authz, pointInterval(key), "read");
      return;
    }
    case "authenticated":
      authorize(state, authInfo);
      return;
    case "admin":
      checkAdminPermitted(state, authInfo);
      return;
    case "userGet":
      try {
        checkAdminPermitted(state, authInfo);
      } catch (error) {
        if (authInfo === undefined || authInfo.username !== req.name) throw error;
        if (state.userHasRootRole(authInfo.username) === undefined) throw error;
      }
      return;
    case "roleGet":
      try {
        checkAdminPermitted(state, authInfo);
      } catch (error) {
        if (authInfo === undefined || !state.userHasRole(authInfo.username, req.role)) throw error;
      }
      return;
    default: {
      const never: never = req;
      assert(false, `unknown request kind ${String(never)}`);
    }
  }
}
