import type { ServiceImpl } from "@connectrpc/connect";
import type { Maintenance } from "@etcd-ts/proto/etcdserverpb";
import type { EtcdApi } from "./etcd-api.js";
import { requestContext } from "./request-context.js";

/** maintenanceService serves etcdserverpb.Maintenance. */
export function maintenanceService(api: EtcdApi): ServiceImpl<typeof Maintenance> {
  return {
    alarm: (req, ctx) => api.alarm(req, requestContext(ctx)),
    status: (req, ctx) => api.status(req, requestContext(ctx)),
    defragment: (req, ctx) => api.defragment(req, requestContext(ctx)),
    hash: (req, ctx) => api.hash(req, requestContext(ctx)),
    hashKV: (req, ctx) => api.hashKV(req, requestContext(ctx)),
    snapshot: (req, ctx) => api.snapshot(req, requestContext(ctx)),
    moveLeader: (req, ctx) => api.moveLeader(req, requestContext(ctx)),
    downgrade: (req, ctx) => api.downgrade(req, requestContext(ctx)),
  };
}
