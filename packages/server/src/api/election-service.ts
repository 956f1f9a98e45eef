import { create } from "@bufbuild/protobuf";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type ResponseHeader,
  TxnRequestSchema,
} from "@etcd-ts/proto/etcdserverpb";
import type { Election, LeaderKey } from "@etcd-ts/proto/v3electionpb";
import { EtcdError } from "../errors.js";
import { acquire, firstOwner, type KeyWaiter } from "./concurrency.js";
import type { EtcdApi } from "./etcd-api.js";
import type { RequestContext } from "./request-context.js";
import { requestContext } from "./request-context.js";

/** The errors of etcd's election API (its concurrency package's texts). */
const notLeader = () => new EtcdError("election: not leader", Code.FailedPrecondition);
const noLeader = () => new EtcdError("election: no leader", Code.FailedPrecondition);

/** KeyObserver streams the current leader of an election each time it changes. */
export interface KeyObserver {
  /** changes yields once now and then after every write under `prefix`, until the signal aborts. */
  changes(prefix: Uint8Array, signal: AbortSignal): AsyncIterable<void>;
}

function ifOwner(leader: LeaderKey | undefined) {
  if (leader === undefined || leader.key.length === 0) throw notLeader();
  return {
    key: leader.key,
    target: Compare_CompareTarget.CREATE,
    result: Compare_CompareResult.EQUAL,
    targetUnion: { case: "createRevision" as const, value: leader.rev },
  };
}

async function currentLeader(api: EtcdApi, rc: RequestContext, name: Uint8Array) {
  const kv = await firstOwner(api, rc, name);
  if (kv === undefined) throw noLeader();
  return kv;
}

/**
 * electionService serves v3electionpb.Election on top of KV, leases and watches, with the semantics of
 * etcd's concurrency.Election: the candidate with the oldest key under `name/` is the leader.
 */
export function electionService(
  api: EtcdApi,
  waiter: KeyWaiter,
  observer: KeyObserver,
  header: () => ResponseHeader,
): ServiceImpl<typeof Election> {
  return {
    async campaign(req, ctx) {
      const rc = requestContext(ctx);
      const held = await acquire(api, waiter, rc, req.name, req.lease, req.value);
      if (held.kv !== undefined && !equalBytes(held.kv.value, req.value)) {
        // Re-campaigning with the same lease: proclaim the new value.
        await api.txn(
          create(TxnRequestSchema, {
            compare: [
              ifOwner({
                name: req.name,
                key: held.key,
                rev: held.createRevision,
                lease: req.lease,
              } as LeaderKey),
            ],
            success: [
              {
                request: { case: "requestPut", value: { key: held.key, value: req.value, lease: req.lease } },
              },
            ],
          }),
          rc,
        );
      }
      return {
        header: header(),
        leader: { name: req.name, key: held.key, rev: held.createRevision, lease: req.lease },
      };
    },
    async proclaim(req, ctx) {
      const rc = requestContext(ctx);
      const compare = ifOwner(req.leader);
      const res = await api.txn(
        create(TxnRequestSchema, {
          compare: [compare],
          success: [
            {
              request: {
                case: "requestPut",
                value: { key: compare.key, value: req.value, lease: req.leader?.lease ?? 0n },
              },
            },
          ],
        }),
        rc,
      );
      if (!res.succeeded) throw notLeader();
      return { header: res.header as ResponseHeader };
    },
    async leader(req, ctx) {
      const kv = await currentLeader(api, requestContext(ctx), req.name);
      return { header: header(), kv };
    },
    async *observe(req, ctx) {
      const rc = requestContext(ctx);
      const prefix = new Uint8Array(req.name.length + 1);
      prefix.set(req.name, 0);
      prefix[req.name.length] = 0x2f;
      let last: { key: Uint8Array; modRevision: bigint } | undefined;
      for await (const _ of observer.changes(prefix, rc.signal)) {
        const kv = await firstOwner(api, rc, req.name);
        if (kv === undefined) continue;
        if (last !== undefined && equalBytes(last.key, kv.key) && last.modRevision === kv.modRevision)
          continue;
        last = { key: kv.key, modRevision: kv.modRevision };
        yield { header: header(), kv };
      }
    },
    async resign(req, ctx) {
      const rc = requestContext(ctx);
      const compare = ifOwner(req.leader);
      const res = await api.txn(
        create(TxnRequestSchema, {
          compare: [compare],
          success: [{ request: { case: "requestDeleteRange", value: { key: compare.key } } }],
        }),
        rc,
      );
      return { header: res.header as ResponseHeader };
    },
  };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
