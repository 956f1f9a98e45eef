import type { ServiceImpl } from "@connectrpc/connect";
import type { KV } from "@etcd-ts/proto/etcdserverpb";
import type { EtcdApi } from "./etcd-api.js";
import { requestContext } from "./request-context.js";

/** kvService serves etcdserverpb.KV. */
export function kvService(api: EtcdApi): ServiceImpl<typeof KV> {
  return {
    range: (req, ctx) => api.range(req, requestContext(ctx)),
    put: (req, ctx) => api.put(req, requestContext(ctx)),
    deleteRange: (req, ctx) => api.deleteRange(req, requestContext(ctx)),
    txn: (req, ctx) => api.txn(req, requestContext(ctx)),
    compact: (req, ctx) => api.compact(req, requestContext(ctx)),
  };
}
