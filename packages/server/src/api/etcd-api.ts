import type * as pb from "@etcd-ts/proto/etcdserverpb";
import type { RequestContext } from "./request-context.js";

/**
 * EtcdApi is what the gRPC services (and the JSON gateway) need from a member: one method per unary RPC of
 * etcdserverpb, each taking the decoded request and the request context. The services are thin; every
 * decision (limits, auth, raft) is behind this interface.
 */
export interface EtcdApi {
  range(req: pb.RangeRequest, rc: RequestContext): Promise<pb.RangeResponse>;
  put(req: pb.PutRequest, rc: RequestContext): Promise<pb.PutResponse>;
  deleteRange(req: pb.DeleteRangeRequest, rc: RequestContext): Promise<pb.DeleteRangeResponse>;
  txn(req: pb.TxnRequest, rc: RequestContext): Promise<pb.TxnResponse>;
  compact(req: pb.CompactionRequest, rc: RequestContext): Promise<pb.CompactionResponse>;

  leaseGrant(req: pb.LeaseGrantRequest, rc: RequestContext): Promise<pb.LeaseGrantResponse>;
  leaseRevoke(req: pb.LeaseRevokeRequest, rc: RequestContext): Promise<pb.LeaseRevokeResponse>;
  /** leaseRenew renews a lease on the leader and returns its TTL (0 when the lease is unknown). */
  leaseRenew(id: bigint, rc: RequestContext): Promise<bigint>;
  leaseTimeToLive(req: pb.LeaseTimeToLiveRequest, rc: RequestContext): Promise<pb.LeaseTimeToLiveResponse>;
  leaseLeases(req: pb.LeaseLeasesRequest, rc: RequestContext): Promise<pb.LeaseLeasesResponse>;

  memberAdd(req: pb.MemberAddRequest, rc: RequestContext): Promise<pb.MemberAddResponse>;
  memberRemove(req: pb.MemberRemoveRequest, rc: RequestContext): Promise<pb.MemberRemoveResponse>;
  memberUpdate(req: pb.MemberUpdateRequest, rc: RequestContext): Promise<pb.MemberUpdateResponse>;
  memberList(req: pb.MemberListRequest, rc: RequestContext): Promise<pb.MemberListResponse>;
  memberPromote(req: pb.MemberPromoteRequest, rc: RequestContext): Promise<pb.MemberPromoteResponse>;

  alarm(req: pb.AlarmRequest, rc: RequestContext): Promise<pb.AlarmResponse>;
  status(req: pb.StatusRequest, rc: RequestContext): Promise<pb.StatusResponse>;
  defragment(req: pb.DefragmentRequest, rc: RequestContext): Promise<pb.DefragmentResponse>;
  hash(req: pb.HashRequest, rc: RequestContext): Promise<pb.HashResponse>;
  hashKV(req: pb.HashKVRequest, rc: RequestContext): Promise<pb.HashKVResponse>;
  snapshot(req: pb.SnapshotRequest, rc: RequestContext): AsyncIterable<pb.SnapshotResponse>;
  moveLeader(req: pb.MoveLeaderRequest, rc: RequestContext): Promise<pb.MoveLeaderResponse>;
  downgrade(req: pb.DowngradeRequest, rc: RequestContext): Promise<pb.DowngradeResponse>;

  authEnable(req: pb.AuthEnableRequest, rc: RequestContext): Promise<pb.AuthEnableResponse>;
  authDisable(req: pb.AuthDisableRequest, rc: RequestContext): Promise<pb.AuthDisableResponse>;
  authStatus(req: pb.AuthStatusRequest, rc: RequestContext): Promise<pb.AuthStatusResponse>;
  authenticate(req: pb.AuthenticateRequest, rc: RequestContext): Promise<pb.AuthenticateResponse>;
  userAdd(req: pb.AuthUserAddRequest, rc: RequestContext): Promise<pb.AuthUserAddResponse>;
  userGet(req: pb.AuthUserGetRequest, rc: RequestContext): Promise<pb.AuthUserGetResponse>;
  userList(req: pb.AuthUserListRequest, rc: RequestContext): Promise<pb.AuthUserListResponse>;
  userDelete(req: pb.AuthUserDeleteRequest, rc: RequestContext): Promise<pb.AuthUserDeleteResponse>;
  userChangePassword(
    req: pb.AuthUserChangePasswordRequest,
    rc: RequestContext,
  ): Promise<pb.AuthUserChangePasswordResponse>;
  userGrantRole(req: pb.AuthUserGrantRoleRequest, rc: RequestContext): Promise<pb.AuthUserGrantRoleResponse>;
  userRevokeRole(
    req: pb.AuthUserRevokeRoleRequest,
    rc: RequestContext,
  ): Promise<pb.AuthUserRevokeRoleResponse>;
  roleAdd(req: pb.AuthRoleAddRequest, rc: RequestContext): Promise<pb.AuthRoleAddResponse>;
  roleGet(req: pb.AuthRoleGetRequest, rc: RequestContext): Promise<pb.AuthRoleGetResponse>;
  roleList(req: pb.AuthRoleListRequest, rc: RequestContext): Promise<pb.AuthRoleListResponse>;
  roleDelete(req: pb.AuthRoleDeleteRequest, rc: RequestContext): Promise<pb.AuthRoleDeleteResponse>;
  roleGrantPermission(
    req: pb.AuthRoleGrantPermissionRequest,
    rc: RequestContext,
  ): Promise<pb.AuthRoleGrantPermissionResponse>;
  roleRevokePermission(
    req: pb.AuthRoleRevokePermissionRequest,
    rc: RequestContext,
  ): Promise<pb.AuthRoleRevokePermissionResponse>;
}
