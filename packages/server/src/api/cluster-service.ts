import type { ServiceImpl } from "@connectrpc/connect";
import type { Cluster } from "@etcd-ts/proto/etcdserverpb";
import type { EtcdApi } from "./etcd-api.js";
import { requestContext } from "./request-context.js";

/** clusterService serves etcdserverpb.Cluster. */
export function clusterService(api: EtcdApi): ServiceImpl<typeof Cluster> {
  return {
    memberAdd: (req, ctx) => api.memberAdd(req, requestContext(ctx)),
    memberRemove: (req, ctx) => api.memberRemove(req, requestContext(ctx)),
    memberUpdate: (req, ctx) => api.memberUpdate(req, requestContext(ctx)),
    memberList: (req, ctx) => api.memberList(req, requestContext(ctx)),
    memberPromote: (req, ctx) => api.memberPromote(req, requestContext(ctx)),
  };
}
