import { describe, expect, it } from "vitest";
import { etcdApiServices, peerServices, rpcPaths } from "./index.js";

// The RPCs of the etcd v3.6 API, as clients call them. A service or method missing from the .proto files
// (or misnamed) makes this list differ.
const expectedEtcdPaths = [
  "/etcdserverpb.KV/Range",
  "/etcdserverpb.KV/Put",
  "/etcdserverpb.KV/DeleteRange",
  "/etcdserverpb.KV/Txn",
  "/etcdserverpb.KV/Compact",
  "/etcdserverpb.Watch/Watch",
  "/etcdserverpb.Lease/LeaseGrant",
  "/etcdserverpb.Lease/LeaseRevoke",
  "/etcdserverpb.Lease/LeaseKeepAlive",
  "/etcdserverpb.Lease/LeaseTimeToLive",
  "/etcdserverpb.Lease/LeaseLeases",
  "/etcdserverpb.Cluster/MemberAdd",
  "/etcdserverpb.Cluster/MemberRemove",
  "/etcdserverpb.Cluster/MemberUpdate",
  "/etcdserverpb.Cluster/MemberList",
  "/etcdserverpb.Cluster/MemberPromote",
  "/etcdserverpb.Maintenance/Alarm",
  "/etcdserverpb.Maintenance/Status",
  "/etcdserverpb.Maintenance/Defragment",
  "/etcdserverpb.Maintenance/Hash",
  "/etcdserverpb.Maintenance/HashKV",
  "/etcdserverpb.Maintenance/Snapshot",
  "/etcdserverpb.Maintenance/MoveLeader",
  "/etcdserverpb.Maintenance/Downgrade",
  "/etcdserverpb.Auth/AuthEnable",
  "/etcdserverpb.Auth/AuthDisable",
  "/etcdserverpb.Auth/AuthStatus",
  "/etcdserverpb.Auth/Authenticate",
  "/etcdserverpb.Auth/UserAdd",
  "/etcdserverpb.Auth/UserGet",
  "/etcdserverpb.Auth/UserList",
  "/etcdserverpb.Auth/UserDelete",
  "/etcdserverpb.Auth/UserChangePassword",
  "/etcdserverpb.Auth/UserGrantRole",
  "/etcdserverpb.Auth/UserRevokeRole",
  "/etcdserverpb.Auth/RoleAdd",
  "/etcdserverpb.Auth/RoleGet",
  "/etcdserverpb.Auth/RoleList",
  "/etcdserverpb.Auth/RoleDelete",
  "/etcdserverpb.Auth/RoleGrantPermission",
  "/etcdserverpb.Auth/RoleRevokePermission",
  "/v3lockpb.Lock/Lock",
  "/v3lockpb.Lock/Unlock",
  "/v3electionpb.Election/Campaign",
  "/v3electionpb.Election/Proclaim",
  "/v3electionpb.Election/Leader",
  "/v3electionpb.Election/Observe",
  "/v3electionpb.Election/Resign",
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
];

describe("etcd API services", () => {
  it("lists every RPC of the etcd v3.6 API, and nothing else", () => {
    expect(rpcPaths(etcdApiServices).sort()).toEqual([...expectedEtcdPaths].sort());
  });

  it("declares the streaming shape each RPC has in etcd", () => {
    const kinds = new Map<string, string>();
    for (const service of etcdApiServices) {
      for (const method of service.methods)
        kinds.set(`${service.typeName}/${method.name}`, method.methodKind);
    }
    const streaming = [...kinds].filter(([, kind]) => kind !== "unary");
    expect(new Map(streaming)).toEqual(
      new Map([
        ["etcdserverpb.Watch/Watch", "bidi_streaming"],
        ["etcdserverpb.Lease/LeaseKeepAlive", "bidi_streaming"],
        ["etcdserverpb.Maintenance/Snapshot", "server_streaming"],
        ["v3electionpb.Election/Observe", "server_streaming"],
        ["grpc.health.v1.Health/Watch", "server_streaming"],
      ]),
    );
  });

  it("has the peer protocol in its own package", () => {
    expect(rpcPaths(peerServices)).toEqual([
      "/etcdts.internal.v1.Peer/StreamMessages",
      "/etcdts.internal.v1.Peer/SendSnapshot",
      "/etcdts.internal.v1.Peer/HashKvAtRevision",
      "/etcdts.internal.v1.Peer/ClusterInfo",
      "/etcdts.internal.v1.Peer/LeaseRenew",
      "/etcdts.internal.v1.Peer/LeaseTimeToLive",
      "/etcdts.internal.v1.Peer/LeaseLeases",
      "/etcdts.internal.v1.Peer/MemberPromote",
    ]);
  });
});
