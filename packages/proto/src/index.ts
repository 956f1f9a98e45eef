/**
 * @etcd-ts/proto: the etcd v3 API and etcd-ts's internal protocols as protobuf-es v2 types.
 *
 * Each .proto file's generated module is its own subpath export (`@etcd-ts/proto/etcdserverpb`,
 * `@etcd-ts/proto/mvccpb`, `@etcd-ts/proto/raft`, ...). This root module lists the services, so that
 * servers can register them and tests can check that none is missing.
 */
import type { DescService } from "@bufbuild/protobuf";
import { Auth, Cluster, KV, Lease, Maintenance, Watch } from "./gen/etcdserverpb/rpc_pb.js";
import { Peer } from "./gen/etcdts/internal/v1/peer_pb.js";
import { Health } from "./gen/grpc/health/v1/health_pb.js";
import { Election } from "./gen/v3electionpb/v3election_pb.js";
import { Lock } from "./gen/v3lockpb/v3lock_pb.js";

/** etcdApiServices are the services a member serves on its client port, exactly as etcd names them. */
export const etcdApiServices: readonly DescService[] = [
  KV,
  Watch,
  Lease,
  Cluster,
  Maintenance,
  Auth,
  Lock,
  Election,
  Health,
];

/** peerServices are the services a member serves to other members on its peer port. */
export const peerServices: readonly DescService[] = [Peer];

/** rpcPaths lists the HTTP/2 paths (`/etcdserverpb.KV/Range`, ...) of the given services. */
export function rpcPaths(services: readonly DescService[]): string[] {
  return services.flatMap((service) =>
    service.methods.map((method) => `/${service.typeName}/${method.name}`),
  );
}
