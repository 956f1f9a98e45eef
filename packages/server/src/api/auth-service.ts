import type { ServiceImpl } from "@connectrpc/connect";
import type { Auth } from "@etcd-ts/proto/etcdserverpb";
import type { EtcdApi } from "./etcd-api.js";
import { requestContext } from "./request-context.js";

/** authService serves etcdserverpb.Auth. */
export function authService(api: EtcdApi): ServiceImpl<typeof Auth> {
  return {
    authEnable: (req, ctx) => api.authEnable(req, requestContext(ctx)),
    authDisable: (req, ctx) => api.authDisable(req, requestContext(ctx)),
    authStatus: (req, ctx) => api.authStatus(req, requestContext(ctx)),
    authenticate: (req, ctx) => api.authenticate(req, requestContext(ctx)),
    userAdd: (req, ctx) => api.userAdd(req, requestContext(ctx)),
    userGet: (req, ctx) => api.userGet(req, requestContext(ctx)),
    userList: (req, ctx) => api.userList(req, requestContext(ctx)),
    userDelete: (req, ctx) => api.userDelete(req, requestContext(ctx)),
    userChangePassword: (req, ctx) => api.userChangePassword(req, requestContext(ctx)),
    userGrantRole: (req, ctx) => api.userGrantRole(req, requestContext(ctx)),
    userRevokeRole: (req, ctx) => api.userRevokeRole(req, requestContext(ctx)),
    roleAdd: (req, ctx) => api.roleAdd(req, requestContext(ctx)),
    roleGet: (req, ctx) => api.roleGet(req, requestContext(ctx)),
    roleList: (req, ctx) => api.roleList(req, requestContext(ctx)),
    roleDelete: (req, ctx) => api.roleDelete(req, requestContext(ctx)),
    roleGrantPermission: (req, ctx) => api.roleGrantPermission(req, requestContext(ctx)),
    roleRevokePermission: (req, ctx) => api.roleRevokePermission(req, requestContext(ctx)),
  };
}
