import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Lease,
  type LeaseKeepAliveResponse,
  LeaseKeepAliveResponseSchema,
} from "@etcd-ts/proto/etcdserverpb";
import { limits } from "../config.js";
import type { EtcdApi } from "./etcd-api.js";
import { requestContext } from "./request-context.js";

/**
 * leaseService serves etcdserverpb.Lease. KeepAlive is a bidi stream: each request renews one lease and
 * gets one response with the new TTL (0 when the lease does not exist), in order.
 */
export function leaseService(
  api: EtcdApi,
  header: () => LeaseKeepAliveResponse["header"],
): ServiceImpl<typeof Lease> {
  return {
    leaseGrant: (req, ctx) => api.leaseGrant(req, requestContext(ctx)),
    leaseRevoke: (req, ctx) => api.leaseRevoke(req, requestContext(ctx)),
    leaseTimeToLive: (req, ctx) => api.leaseTimeToLive(req, requestContext(ctx)),
    leaseLeases: (req, ctx) => api.leaseLeases(req, requestContext(ctx)),
    async *leaseKeepAlive(requests, ctx) {
      const rc = requestContext(ctx);
      let pending = 0;
      for await (const req of requests) {
        pending++;
        if (pending > limits.maxKeepAliveQueue) throw new Error("etcdserver: too many requests");
        const ttl = await api.leaseRenew(req.ID, rc);
        pending--;
        yield create(LeaseKeepAliveResponseSchema, { header: header(), ID: req.ID, TTL: ttl });
      }
    },
  };
}
