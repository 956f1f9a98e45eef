import type http from "node:http";
import type http2 from "node:http2";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Auth, Cluster, KV, Lease, Maintenance, Watch } from "@etcd-ts/proto/etcdserverpb";
import { Health } from "@etcd-ts/proto/health";
import { Election } from "@etcd-ts/proto/v3electionpb";
import { Lock } from "@etcd-ts/proto/v3lockpb";
import { errorInterceptor } from "./error-interceptor.js";
import { createGateway } from "./gateway.js";
import { createGrpcFastPath } from "./grpc-fast-path.js";

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** ClientServices are the implementations of every service a member serves on its client port. */
export interface ClientServices {
  kv: ServiceImpl<typeof KV>;
  watch: ServiceImpl<typeof Watch>;
  lease: ServiceImpl<typeof Lease>;
  cluster: ServiceImpl<typeof Cluster>;
  maintenance: ServiceImpl<typeof Maintenance>;
  auth: ServiceImpl<typeof Auth>;
  lock: ServiceImpl<typeof Lock>;
  election: ServiceImpl<typeof Election>;
  health: ServiceImpl<typeof Health>;
}

/** HttpEndpoint serves a plain HTTP path such as /health or /metrics; returns false if not its path. */
export type HttpEndpoint = (req: Req, res: Res) => boolean;

/**
 * createClientHandler builds the request handler of the client port: gRPC (on the fast path of
 * grpc-fast-path.ts unless ETCD_TS_GRPC_PATH=connect), gRPC-Web and Connect for every
 * service, the JSON gateway under /v3/, plain HTTP endpoints, and for anything else a proper gRPC
 * "unimplemented" (so gRPC clients see code 12, not an HTTP 404) or a JSON 404.
 */
export function createClientHandler(
  services: ClientServices,
  options: { readMaxBytes: number; endpoints: HttpEndpoint[] },
): (req: Req, res: Res) => void {
  const routes = (router: ConnectRouter) => {
    router.service(KV, services.kv);
    router.service(Watch, services.watch);
    router.service(Lease, services.lease);
    router.service(Cluster, services.cluster);
    router.service(Maintenance, services.maintenance);
    router.service(Auth, services.auth);
    router.service(Lock, services.lock);
    router.service(Election, services.election);
    router.service(Health, services.health);
  };
  const interceptors = [errorInterceptor];
  const gateway = createGateway(routes, interceptors);
  const fastPath =
    process.env.ETCD_TS_GRPC_PATH === "connect"
      ? undefined
      : createGrpcFastPath(
          [
            [KV, services.kv],
            [Watch, services.watch],
            [Lease, services.lease],
            [Cluster, services.cluster],
            [Maintenance, services.maintenance],
            [Auth, services.auth],
            [Lock, services.lock],
            [Election, services.election],
            [Health, services.health],
          ],
          options.readMaxBytes,
        );
  const fallback = (req: Req, res: Res) => {
    if (gateway(req, res)) return;
    for (const endpoint of options.endpoints) if (endpoint(req, res)) return;
    const contentType = String(req.headers["content-type"] ?? "");
    if (contentType.startsWith("application/grpc")) {
      // Trailers-only response: the status travels in the headers.
      res.writeHead(200, {
        "content-type": "application/grpc",
        "grpc-status": "12",
        "grpc-message": encodeURIComponent(`unknown method ${req.url ?? ""}`),
      });
      res.end();
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: 5, message: "Not Found", details: [] }));
  };
  const adapter = connectNodeAdapter({
    routes,
    interceptors,
    grpc: true,
    grpcWeb: true,
    connect: true,
    readMaxBytes: options.readMaxBytes,
    fallback: fallback as never,
  });
  const connect = adapter as (req: Req, res: Res) => void;
  if (fastPath === undefined) return connect;
  return (req, res) => {
    if (!fastPath(req, res)) connect(req, res);
  };
}
