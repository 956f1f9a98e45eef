import { create, fromBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { AuthInfo, AuthStore } from "@etcd-ts/auth";
import type { Lessor } from "@etcd-ts/lease";
import type { KvStore, LeaseChange, PendingCompaction, PendingWrite } from "@etcd-ts/mvcc";
import {
  AlarmType,
  CompactionResponseSchema,
  LeaseGrantResponseSchema,
  LeaseRevokeResponseSchema,
  type ResponseHeader,
  type TxnRequest,
} from "@etcd-ts/proto/etcdserverpb";
import { type InternalRequest, InternalRequestSchema } from "@etcd-ts/proto/internal/request";
import { assert } from "../assert.js";
import type { BackendWrite } from "../backend.js";
import { EtcdError } from "../errors.js";
import type { AlarmStore } from "./alarm-store.js";

/** ApplyResult is what the proposer's waiter gets: a response message, or the error to send instead. */
export type ApplyResult = { response: unknown; error?: undefined } | { response?: undefined; error: Error };

/** AppliedEffects are things to do once the entry's batch is durable (never before). */
interface AppliedEffects {
  kv?: PendingWrite<unknown>;
  compaction?: PendingCompaction;
  afterCommit: Array<() => void>;
}

/** ApplierDeps are the stores the applier writes to (all over the one backend). */
export interface ApplierDeps {
  kv: KvStore;
  lessor: Lessor;
  auth: AuthStore;
  alarms: AlarmStore;
  /** header makes a response header at `revision` (default: the store's committed revision). */
  header(revision?: bigint): ResponseHeader;
  /** quotaExceeded tells whether the backend is over its quota (NOSPACE). */
  quotaExceeded(): boolean;
  /** onQuotaExceeded is told when a write was refused for space (the server raises the alarm). */
  onQuotaExceeded(): void;
  /** setMemberAttributes records a member's published name and client URLs (the server owns membership). */
  setMemberAttributes(
    write: BackendWrite,
    attrs: { memberId: bigint; name: string; clientUrls: string[] },
  ): void;
}

function authInfoOf(req: InternalRequest): AuthInfo | undefined {
  const header = req.header;
  if (header === undefined || header.username === "") return undefined;
  return { username: header.username, revision: Number(header.authRevision) };
}

/**
 * Applier applies one committed raft entry's request to the stores: one exhaustive dispatch over the
 * internal request, with auth and quota checks in the apply path (so a request authorised at proposal
 * time but no longer permitted when it applies is refused everywhere alike), writing into ONE backend
 * write the caller commits together with the consistent index.
 */
export class Applier {
  readonly #deps: ApplierDeps;

  constructor(deps: ApplierDeps) {
    this.#deps = deps;
  }

  /** decode reads the InternalRequest of a committed entry. */
  decode(data: Uint8Array): InternalRequest {
    return fromBinary(InternalRequestSchema, data);
  }

  /**
   * groupable tells whether `req` may share one backend write with the entries before it: a kv write whose
   * only effects before the commit are mvcc's pending ones (later kv writes of the group see them; readers do
   * not). Every other request changes in-memory state (leases, auth, alarms, compaction) as it applies, so it
   * is applied on its own, after the writes before it are committed.
   */
  static groupable(req: InternalRequest): boolean {
    const kind = req.request.case;
    return kind === "put" || kind === "deleteRange" || kind === "txn";
  }

  /**
   * apply executes `data` (an encoded InternalRequest at raft `index`) into `write`. It returns the result
   * for the proposer and a function that publishes the effects once `write` is committed.
   */
  async apply(
    data: Uint8Array,
    index: number,
    write: BackendWrite,
  ): Promise<{ id: bigint; result: ApplyResult; publish: () => void }> {
    return this.applyRequest(this.decode(data), index, write);
  }

  /** applyRequest is `apply` of a request already decoded. */
  async applyRequest(
    req: InternalRequest,
    index: number,
    write: BackendWrite,
  ): Promise<{ id: bigint; result: ApplyResult; publish: () => void }> {
    const id = req.header?.id ?? 0n;
    const effects: AppliedEffects = { afterCommit: [] };
    let result: ApplyResult;
    try {
      const response = await this.#dispatch(req, index, write, effects);
      result = { response };
    } catch (err) {
      if (effects.kv !== undefined) {
        this.#deps.kv.abort(effects.kv);
        effects.kv = undefined;
      }
      if (!(err instanceof Error) || err.name === "AssertionError") throw err;
      result = { error: err };
    }
    const publish = () => {
      if (effects.kv !== undefined) this.#deps.kv.commit(effects.kv);
      for (const fn of effects.afterCommit) fn();
      if (effects.compaction !== undefined) void this.#deps.kv.commitCompaction(effects.compaction);
    };
    return { id, result, publish };
  }

  #trackLeases(changes: readonly LeaseChange[], effects: AppliedEffects): void {
    if (changes.length === 0) return;
    effects.afterCommit.push(() => {
      for (const change of changes) {
        if (change.lease === 0n) this.#deps.lessor.recordDelete(change.key);
        else this.#deps.lessor.recordPut(change.key, change.lease);
      }
    });
  }

  #checkQuota(): void {
    if (this.#deps.alarms.has(AlarmType.NOSPACE))
      throw new EtcdError("etcdserver: mvcc: database space exceeded");
    if (this.#deps.quotaExceeded()) {
      this.#deps.onQuotaExceeded();
      throw new EtcdError("etcdserver: mvcc: database space exceeded");
    }
  }

  async #dispatch(
    req: InternalRequest,
    index: number,
    write: BackendWrite,
    effects: AppliedEffects,
  ): Promise<unknown> {
    const { kv, lessor, auth } = this.#deps;
    const who = authInfoOf(req);
    const r = req.request;
    const leaseKeys = (lease: bigint) => lessor.lookup(lease)?.keys ?? [];
    // A CORRUPT alarm freezes the data: writes are refused everywhere alike until it is disarmed.
    if (this.#deps.alarms.has(AlarmType.CORRUPT) && corruptRefused.has(r.case)) {
      throw new EtcdError("etcdserver: corrupt cluster");
    }
    switch (r.case) {
      case "put": {
        auth.checkPut(who, r.value, leaseKeys);
        this.#checkQuota();
        const pending = await kv.put(r.value, write.scoped("kv"));
        effects.kv = pending;
        this.#trackLeases(pending.leaseChanges, effects);
        return pending.response;
      }
      case "deleteRange": {
        auth.checkDeleteRange(who, r.value);
        const pending = await kv.deleteRange(r.value, write.scoped("kv"));
        effects.kv = pending;
        this.#trackLeases(pending.leaseChanges, effects);
        return pending.response;
      }
      case "txn": {
        auth.checkTxnPermitted(who, r.value, leaseKeys);
        if (txnPuts(r.value)) this.#checkQuota();
        const pending = await kv.txn(r.value, write.scoped("kv"));
        effects.kv = pending;
        this.#trackLeases(pending.leaseChanges, effects);
        return pending.response;
      }
      case "compaction": {
        auth.checkAdminPermitted(who);
        const compaction = kv.compact(r.value.revision, write.scoped("kv"));
        effects.compaction = compaction;
        return create(CompactionResponseSchema, { header: this.#deps.header(kv.latestRevision) });
      }
      case "leaseGrant": {
        this.#checkQuota();
        const info = lessor.grant(write.scoped("lease"), {
          id: r.value.ID,
          ttlSeconds: r.value.TTL,
          raftIndex: index,
        });
        return create(LeaseGrantResponseSchema, {
          header: this.#deps.header(kv.latestRevision),
          ID: info.id,
          TTL: BigInt(info.ttlSeconds),
        });
      }
      case "leaseRevoke": {
        const lease = lessor.lookup(r.value.ID);
        if (lease === undefined) throw new EtcdError("etcdserver: requested lease not found");
        auth.checkRequest(who, { kind: "leaseRevoke", attachedKeys: lease.keys });
        const keys = [...lease.keys];
        if (keys.length > 0) {
          const pending = await kv.deleteKeys(keys, write.scoped("kv"));
          effects.kv = pending;
        }
        lessor.revoke(write.scoped("lease"), r.value.ID, { deleteKeys: () => {} });
        // The revision after the keys' deletion (and after earlier writes of this batch, still pending).
        return create(LeaseRevokeResponseSchema, { header: this.#deps.header(kv.latestRevision) });
      }
      case "leaseCheckpoint": {
        for (const checkpoint of r.value.checkpoints) {
          lessor.checkpoint(write.scoped("lease"), checkpoint.id, checkpoint.remainingTtl);
        }
        return {};
      }
      case "alarm": {
        auth.checkAdminPermitted(who);
        return this.#deps.alarms.apply(write.scoped("meta"), r.value.action, r.value.memberID, r.value.alarm);
      }
      case "authEnable":
        auth.checkAdminPermitted(who);
        auth.applyAuthEnable(write.scoped("auth"));
        return {};
      case "authDisable":
        auth.checkAdminPermitted(who);
        auth.applyAuthDisable(write.scoped("auth"));
        return {};
      case "authenticate": {
        const token = await auth.applyAuthenticate(r.value.name, {
          index,
          simpleTokenPrefix: r.value.simpleTokenPrefix,
          checkedRevision: Number(r.value.checkedRevision),
        });
        return { token };
      }
      case "userAdd":
        auth.checkAdminPermitted(who);
        assert(r.value.password === "", "a plaintext password must never be proposed");
        auth.applyUserAdd(write.scoped("auth"), r.value);
        return {};
      case "userDelete":
        auth.checkAdminPermitted(who);
        auth.applyUserDelete(write.scoped("auth"), r.value);
        return {};
      case "userChangePassword":
        auth.checkAdminPermitted(who);
        assert(r.value.password === "", "a plaintext password must never be proposed");
        auth.applyUserChangePassword(write.scoped("auth"), r.value);
        return {};
      case "userGrantRole":
        auth.checkAdminPermitted(who);
        auth.applyUserGrantRole(write.scoped("auth"), r.value);
        return {};
      case "userRevokeRole":
        auth.checkAdminPermitted(who);
        auth.applyUserRevokeRole(write.scoped("auth"), r.value);
        return {};
      case "roleAdd":
        auth.checkAdminPermitted(who);
        auth.applyRoleAdd(write.scoped("auth"), r.value);
        return {};
      case "roleDelete":
        auth.checkAdminPermitted(who);
        auth.applyRoleDelete(write.scoped("auth"), r.value);
        return {};
      case "roleGrantPermission":
        auth.checkAdminPermitted(who);
        auth.applyRoleGrantPermission(write.scoped("auth"), r.value);
        return {};
      case "roleRevokePermission":
        auth.checkAdminPermitted(who);
        auth.applyRoleRevokePermission(write.scoped("auth"), r.value);
        return {};
      case "memberAttributesSet":
        this.#deps.setMemberAttributes(write, r.value);
        return {};
      case "clusterVersionSet":
      case "downgradeInfoSet":
        // Membership attributes are applied by the server (membership.ts), which owns the members sublevel.
        return {};
      case undefined:
        throw new EtcdError("etcdserver: unknown request", Code.InvalidArgument);
    }
  }
}

/** Requests refused while the CORRUPT alarm is active (as etcd's corrupt applier). */
const corruptRefused = new Set<string | undefined>([
  "put",
  "deleteRange",
  "txn",
  "compaction",
  "leaseGrant",
  "leaseRevoke",
]);

/** txnPuts tells whether any branch of a txn puts (under NOSPACE, deletes still go through, puts do not). */
function txnPuts(txn: TxnRequest): boolean {
  for (const op of [...txn.success, ...txn.failure]) {
    const r = op.request;
    if (r.case === "requestPut") return true;
    if (r.case === "requestTxn" && txnPuts(r.value)) return true;
  }
  return false;
}
