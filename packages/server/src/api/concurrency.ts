import { create } from "@bufbuild/protobuf";
import { prefixEnd } from "@etcd-ts/mvcc";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  RangeRequestSchema,
  TxnRequestSchema,
} from "@etcd-ts/proto/etcdserverpb";
import type { KeyValue } from "@etcd-ts/proto/mvccpb";
import type { EtcdApi } from "./etcd-api.js";
import type { RequestContext } from "./request-context.js";

/** KeyWaiter is what lock and election need from the watch hub: wait until a key is deleted. */
export interface KeyWaiter {
  /** waitDeleted resolves once `key` has no live version at a revision above `fromRevision`. */
  waitDeleted(key: Uint8Array, fromRevision: bigint, signal: AbortSignal): Promise<void>;
}

const utf8 = new TextEncoder();

/** ownedKey is the key a lock or campaign holds: `<name>/<lease id in hex>`, as etcd's concurrency package. */
export function ownedKey(name: Uint8Array, lease: bigint): Uint8Array {
  const suffix = utf8.encode(`/${lease.toString(16)}`);
  const out = new Uint8Array(name.length + suffix.length);
  out.set(name, 0);
  out.set(suffix, name.length);
  return out;
}

/**
 * acquire creates `key` (with `value`, attached to `lease`) unless it exists, then waits until every key
 * under `name/` created before it is gone: the waiting queue of etcd's Mutex and Election. Returns the
 * key's create revision and the response header revision.
 */
export async function acquire(
  api: EtcdApi,
  waiter: KeyWaiter,
  rc: RequestContext,
  name: Uint8Array,
  lease: bigint,
  value: Uint8Array,
): Promise<{ key: Uint8Array; createRevision: bigint; kv: KeyValue | undefined }> {
  const prefix = new Uint8Array(name.length + 1);
  prefix.set(name, 0);
  prefix[name.length] = 0x2f; // "/"
  const key = ownedKey(name, lease);
  const txn = await api.txn(
    create(TxnRequestSchema, {
      compare: [
        {
          key,
          target: Compare_CompareTarget.CREATE,
          result: Compare_CompareResult.EQUAL,
          targetUnion: { case: "createRevision", value: 0n },
        },
      ],
      success: [{ request: { case: "requestPut", value: { key, value, lease } } }],
      failure: [{ request: { case: "requestRange", value: { key } } }],
    }),
    rc,
  );
  let createRevision = txn.header?.revision ?? 0n;
  let kv: KeyValue | undefined;
  if (!txn.succeeded) {
    const first = txn.responses[0]?.response;
    if (first?.case === "responseRange") {
      kv = first.value.kvs[0];
      createRevision = kv?.createRevision ?? createRevision;
    }
  }
  // Wait for the keys ahead of ours (lower create revision), the last one first, until none is left.
  for (;;) {
    rc.signal.throwIfAborted();
    const ahead = await api.range(
      create(RangeRequestSchema, {
        key: prefix,
        rangeEnd: prefixEnd(prefix),
        maxCreateRevision: createRevision - 1n,
        sortOrder: RangeRequest_SortOrder.DESCEND,
        sortTarget: RangeRequest_SortTarget.CREATE,
        limit: 1n,
      }),
      rc,
    );
    const last = ahead.kvs[0];
    if (last === undefined) break;
    await waiter.waitDeleted(last.key, ahead.header?.revision ?? 0n, rc.signal);
  }
  return { key, createRevision, kv };
}

/** firstOwner returns the kv with the lowest create revision under `name/` (the lock holder / leader). */
export async function firstOwner(
  api: EtcdApi,
  rc: RequestContext,
  name: Uint8Array,
): Promise<KeyValue | undefined> {
  const prefix = new Uint8Array(name.length + 1);
  prefix.set(name, 0);
  prefix[name.length] = 0x2f;
  const res = await api.range(
    create(RangeRequestSchema, {
      key: prefix,
      rangeEnd: prefixEnd(prefix),
      sortOrder: RangeRequest_SortOrder.ASCEND,
      sortTarget: RangeRequest_SortTarget.CREATE,
      limit: 1n,
    }),
    rc,
  );
  return res.kvs[0];
}
