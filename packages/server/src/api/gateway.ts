import type http from "node:http";
import type http2 from "node:http2";
import {
  type DescMessage,
  type DescMethod,
  type DescService,
  fromJson,
  type JsonValue,
  toJson,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createClient,
  createRouterTransport,
  type Interceptor,
} from "@connectrpc/connect";
import { Auth, Cluster, KV, Lease, Maintenance, Watch } from "@etcd-ts/proto/etcdserverpb";
import { Election } from "@etcd-ts/proto/v3electionpb";
import { Lock } from "@etcd-ts/proto/v3lockpb";
import { toConnectError } from "../errors.js";

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** The grpc-gateway routes of etcd's JSON API (`/v3/...`), each mapped to its RPC. */
const routeTable: ReadonlyArray<[string, DescService, string]> = [
  ["/v3/kv/range", KV, "Range"],
  ["/v3/kv/put", KV, "Put"],
  ["/v3/kv/deleterange", KV, "DeleteRange"],
  ["/v3/kv/txn", KV, "Txn"],
  ["/v3/kv/compaction", KV, "Compact"],
  ["/v3/watch", Watch, "Watch"],
  ["/v3/lease/grant", Lease, "LeaseGrant"],
  ["/v3/lease/revoke", Lease, "LeaseRevoke"],
  ["/v3/kv/lease/revoke", Lease, "LeaseRevoke"],
  ["/v3/lease/keepalive", Lease, "LeaseKeepAlive"],
  ["/v3/lease/timetolive", Lease, "LeaseTimeToLive"],
  ["/v3/kv/lease/timetolive", Lease, "LeaseTimeToLive"],
  ["/v3/lease/leases", Lease, "LeaseLeases"],
  ["/v3/kv/lease/leases", Lease, "LeaseLeases"],
  ["/v3/cluster/member/add", Cluster, "MemberAdd"],
  ["/v3/cluster/member/remove", Cluster, "MemberRemove"],
  ["/v3/cluster/member/update", Cluster, "MemberUpdate"],
  ["/v3/cluster/member/list", Cluster, "MemberList"],
  ["/v3/cluster/member/promote", Cluster, "MemberPromote"],
  ["/v3/maintenance/alarm", Maintenance, "Alarm"],
  ["/v3/maintenance/status", Maintenance, "Status"],
  ["/v3/maintenance/defragment", Maintenance, "Defragment"],
  ["/v3/maintenance/hash", Maintenance, "Hash"],
  ["/v3/maintenance/hashkv", Maintenance, "HashKV"],
  ["/v3/maintenance/snapshot", Maintenance, "Snapshot"],
  ["/v3/maintenance/transfer-leadership", Maintenance, "MoveLeader"],
  ["/v3/maintenance/downgrade", Maintenance, "Downgrade"],
  ["/v3/auth/enable", Auth, "AuthEnable"],
  ["/v3/auth/disable", Auth, "AuthDisable"],
  ["/v3/auth/status", Auth, "AuthStatus"],
  ["/v3/auth/authenticate", Auth, "Authenticate"],
  ["/v3/auth/user/add", Auth, "UserAdd"],
  ["/v3/auth/user/get", Auth, "UserGet"],
  ["/v3/auth/user/list", Auth, "UserList"],
  ["/v3/auth/user/delete", Auth, "UserDelete"],
  ["/v3/auth/user/changepw", Auth, "UserChangePassword"],
  ["/v3/auth/user/grant", Auth, "UserGrantRole"],
  ["/v3/auth/user/revoke", Auth, "UserRevokeRole"],
  ["/v3/auth/role/add", Auth, "RoleAdd"],
  ["/v3/auth/role/get", Auth, "RoleGet"],
  ["/v3/auth/role/list", Auth, "RoleList"],
  ["/v3/auth/role/delete", Auth, "RoleDelete"],
  ["/v3/auth/role/grant", Auth, "RoleGrantPermission"],
  ["/v3/auth/role/revoke", Auth, "RoleRevokePermission"],
  ["/v3/lock/lock", Lock, "Lock"],
  ["/v3/lock/unlock", Lock, "Unlock"],
  ["/v3/election/campaign", Election, "Campaign"],
  ["/v3/election/proclaim", Election, "Proclaim"],
  ["/v3/election/leader", Election, "Leader"],
  ["/v3/election/observe", Election, "Observe"],
  ["/v3/election/resign", Election, "Resign"],
];

/** httpStatus is grpc-gateway's mapping of gRPC codes to HTTP status codes. */
function httpStatus(code: Code): number {
  switch (code) {
    case Code.Canceled:
      return 499;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return 400;
    case Code.DeadlineExceeded:
      return 504;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.PermissionDenied:
      return 403;
    case Code.Unauthenticated:
      return 401;
    case Code.ResourceExhausted:
      return 429;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    default:
      return 500;
  }
}

/** Largest JSON body the gateway reads (etcd's max request bytes plus envelope). */
const maxBodyBytes = 2 * 1024 * 1024;

async function readBody(req: Req): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new ConnectError("etcdserver: request is too large", Code.InvalidArgument);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJsonMessages(schema: DescMessage, body: string): unknown[] {
  // A streaming route takes several JSON objects, one after another (whitespace/newline separated).
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0) out.push(parseOne(schema, body.slice(start, i + 1)));
    }
  }
  if (out.length === 0) out.push(parseOne(schema, body.trim() === "" ? "{}" : body));
  return out;
}

function parseOne(schema: DescMessage, text: string): unknown {
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new ConnectError(`invalid JSON: ${(err as Error).message}`, Code.InvalidArgument);
  }
  try {
    return fromJson(schema, json, { ignoreUnknownFields: true });
  } catch (err) {
    throw new ConnectError((err as Error).message, Code.InvalidArgument);
  }
}

/**
 * createGateway returns a handler for etcd's grpc-gateway JSON API: POST /v3/... with protojson bodies
 * (proto field names or lowerCamel in, proto field names out, int64 as strings, bytes as base64, zero
 * values omitted). It calls the same service implementations as gRPC, in process, through a Connect
 * router transport, so interceptors and error mapping are shared. Returns false when the path is not a
 * gateway route.
 */
export function createGateway(
  routes: (router: ConnectRouter) => void,
  interceptors: Interceptor[],
): (req: Req, res: Res) => boolean {
  const transport = createRouterTransport(routes, { router: { interceptors } });
  const clients = new Map<DescService, Record<string, unknown>>();
  const byPath = new Map<string, DescMethod>();
  for (const [path, service, name] of routeTable) {
    const method = service.methods.find((m) => m.name === name);
    if (method === undefined) throw new Error(`gateway route ${path}: no method ${name}`);
    byPath.set(path, method);
    if (!clients.has(service))
      clients.set(service, createClient(service, transport) as Record<string, unknown>);
  }

  const writeError = (res: Res, err: unknown) => {
    const ce = toConnectError(err);
    if (res.headersSent) {
      res.end();
      return;
    }
    const body = JSON.stringify({ code: ce.code, message: ce.rawMessage, details: [] });
    res.writeHead(httpStatus(ce.code), { "content-type": "application/json" });
    res.end(body);
  };

  return (req, res) => {
    const url = (req.url ?? "/").split("?")[0] ?? "/";
    const path = url.startsWith("/v3beta/") ? `/v3/${url.slice("/v3beta/".length)}` : url;
    const method = byPath.get(path);
    if (method === undefined) return false;
    if (req.method !== "POST") {
      res.writeHead(405, { "content-type": "application/json", allow: "POST" });
      res.end(JSON.stringify({ code: Code.Unimplemented, message: "Method Not Allowed", details: [] }));
      return true;
    }
    const client = clients.get(method.parent) as Record<string, (...args: unknown[]) => unknown>;
    const call = client[method.localName];
    if (call === undefined) throw new Error(`no client method ${method.localName}`);
    const token = (req.headers.authorization as string | undefined) ?? undefined;
    const headers: Record<string, string> = token === undefined ? {} : { token };
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const options = { headers, signal: abort.signal };
    const out = (message: unknown) =>
      toJson(method.output, message as never, { useProtoFieldName: true }) as JsonValue;

    void (async () => {
      try {
        const body = await readBody(req);
        const inputs = parseJsonMessages(method.input, body);
        if (method.methodKind === "unary") {
          const response = await (call(inputs[0], options) as Promise<unknown>);
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(out(response)));
          return;
        }
        const requestStream = (async function* () {
          for (const input of inputs) yield input;
          // Keep a bidi stream open until the client goes away, as grpc-gateway does.
          await new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve()));
        })();
        const responses = (
          method.methodKind === "server_streaming" ? call(inputs[0], options) : call(requestStream, options)
        ) as AsyncIterable<unknown>;
        for await (const response of responses) {
          if (!res.headersSent) res.writeHead(200, { "content-type": "application/json" });
          (res as http.ServerResponse).write(`${JSON.stringify({ result: out(response) })}\n`);
        }
        res.end();
      } catch (err) {
        if (abort.signal.aborted) return;
        writeError(res, err);
      }
    })();
    return true;
  };
}
