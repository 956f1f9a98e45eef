import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { Auth, Cluster, KV, Lease, Maintenance } from "@etcd-ts/proto/etcdserverpb";
import type { AuthSession } from "./auth-session.js";

/** EtcdApi is the set of etcd v3 services the dashboard calls on one member. */
export interface EtcdApi {
  /** baseUrl is the member's client URL (the page's own origin for the serving member). */
  readonly baseUrl: string;
  readonly kv: Client<typeof KV>;
  readonly cluster: Client<typeof Cluster>;
  readonly maintenance: Client<typeof Maintenance>;
  readonly lease: Client<typeof Lease>;
  readonly auth: Client<typeof Auth>;
  /** session carries the auth token, if the user signed in. */
  readonly session: AuthSession | undefined;
}

/** DEFAULT_RPC_TIMEOUT_MS bounds every unary call of the dashboard. */
export const DEFAULT_RPC_TIMEOUT_MS = 5_000;

/**
 * createEtcdApi connects to a member over the Connect protocol (binary protobuf over HTTP/1.1 or 2, through
 * fetch), which the etcd-ts client port serves next to gRPC. The messages are the generated etcdserverpb
 * types, so int64 fields (revisions, ids, sizes) arrive as bigint.
 */
export function createEtcdApi(
  baseUrl: string,
  session?: AuthSession,
  timeoutMs = DEFAULT_RPC_TIMEOUT_MS,
): EtcdApi {
  const transport = createConnectTransport({
    baseUrl,
    useBinaryFormat: true,
    defaultTimeoutMs: timeoutMs,
    interceptors: session === undefined ? [] : [session.interceptor],
  });
  return {
    baseUrl,
    kv: createClient(KV, transport),
    cluster: createClient(Cluster, transport),
    maintenance: createClient(Maintenance, transport),
    lease: createClient(Lease, transport),
    auth: createClient(Auth, transport),
    session,
  };
}
