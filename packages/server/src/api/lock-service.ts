import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DeleteRangeRequestSchema,
  RangeRequestSchema,
  type ResponseHeader,
} from "@etcd-ts/proto/etcdserverpb";
import type { Lock } from "@etcd-ts/proto/v3lockpb";
import { acquire, type KeyWaiter } from "./concurrency.js";
import type { EtcdApi } from "./etcd-api.js";
import { requestContext } from "./request-context.js";

/**
 * lockService serves v3lockpb.Lock: Lock(name, lease) blocks until the caller holds `name` and returns the
 * owned key `name/<lease hex>` (use its revision as a fencing token); Unlock(key) deletes it. A lock is
 * only as good as its lease: when the lease expires the key is gone and the next waiter gets the lock.
 */
export function lockService(api: EtcdApi, waiter: KeyWaiter): ServiceImpl<typeof Lock> {
  return {
    async lock(req, ctx) {
      const rc = requestContext(ctx);
      const held = await acquire(api, waiter, rc, req.name, req.lease, new Uint8Array());
      // The lease may have expired while we waited: re-check that our key still exists (etcd #11456).
      const still = await api.range(create(RangeRequestSchema, { key: held.key }), rc);
      if (still.kvs.length === 0) throw new Error("etcdserver: requested lease not found");
      return { header: still.header as ResponseHeader, key: held.key };
    },
    async unlock(req, ctx) {
      const res = await api.deleteRange(
        create(DeleteRangeRequestSchema, { key: req.key }),
        requestContext(ctx),
      );
      return { header: res.header as ResponseHeader };
    },
  };
}
