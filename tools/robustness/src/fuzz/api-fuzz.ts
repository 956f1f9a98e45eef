import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  AlarmRequest_AlarmAction,
  Auth,
  Cluster,
  KV,
  Lease,
  Maintenance,
  Watch,
} from "@etcd-ts/proto/etcdserverpb";
import fc from "fast-check";
import { RobustnessCluster, type Target } from "../cluster/cluster.js";
import { bytes, errorText } from "../cluster/etcd-client.js";
import { Random } from "../random.js";
import { messageInitArb } from "./message-arbitrary.js";
import { RawGrpc } from "./raw-grpc.js";

/** FuzzOptions configure an API fuzzing session. */
export interface FuzzOptions {
  readonly target: Target;
  readonly binary?: string;
  readonly seed: number;
  /** perMethod is how many requests each RPC gets in each encoding. */
  readonly perMethod: number;
  /** members is the cluster size (3: the final check compares HashKV across members). */
  readonly members?: number;
}

/** FuzzResult counts the answers and lists what was wrong. */
export interface FuzzResult {
  readonly methods: number;
  readonly requests: number;
  readonly validAnswers: number;
  readonly etcdErrors: number;
  readonly violations: string[];
  /** errorKinds counts distinct (code, message) answers, for the report. */
  readonly errorKinds: ReadonlyMap<string, number>;
}

/** excluded RPCs would take the cluster away from the fuzzer itself (quorum loss, auth lock-out). */
const excluded = new Set([
  "etcdserverpb.Cluster/MemberAdd",
  "etcdserverpb.Auth/AuthEnable",
  "etcdserverpb.Maintenance/Downgrade",
  "etcdserverpb.Maintenance/MoveLeader",
]);

/** gatewayRoutes are etcd's grpc-gateway paths for the unary RPCs (POST, JSON bodies). */
const gatewayRoutes: Record<string, string> = {
  "etcdserverpb.KV/Range": "/v3/kv/range",
  "etcdserverpb.KV/Put": "/v3/kv/put",
  "etcdserverpb.KV/DeleteRange": "/v3/kv/deleterange",
  "etcdserverpb.KV/Txn": "/v3/kv/txn",
  "etcdserverpb.KV/Compact": "/v3/kv/compaction",
  "etcdserverpb.Lease/LeaseGrant": "/v3/lease/grant",
  "etcdserverpb.Lease/LeaseRevoke": "/v3/lease/revoke",
  "etcdserverpb.Lease/LeaseTimeToLive": "/v3/lease/timetolive",
  "etcdserverpb.Lease/LeaseLeases": "/v3/lease/leases",
  "etcdserverpb.Cluster/MemberRemove": "/v3/cluster/member/remove",
  "etcdserverpb.Cluster/MemberUpdate": "/v3/cluster/member/update",
  "etcdserverpb.Cluster/MemberList": "/v3/cluster/member/list",
  "etcdserverpb.Cluster/MemberPromote": "/v3/cluster/member/promote",
  "etcdserverpb.Maintenance/Alarm": "/v3/maintenance/alarm",
  "etcdserverpb.Maintenance/Status": "/v3/maintenance/status",
  "etcdserverpb.Maintenance/Defragment": "/v3/maintenance/defragment",
  "etcdserverpb.Maintenance/Hash": "/v3/maintenance/hash",
  "etcdserverpb.Maintenance/HashKV": "/v3/maintenance/hashkv",
  "etcdserverpb.Auth/AuthDisable": "/v3/auth/disable",
  "etcdserverpb.Auth/AuthStatus": "/v3/auth/status",
  "etcdserverpb.Auth/Authenticate": "/v3/auth/authenticate",
  "etcdserverpb.Auth/UserAdd": "/v3/auth/user/add",
  "etcdserverpb.Auth/UserGet": "/v3/auth/user/get",
  "etcdserverpb.Auth/UserList": "/v3/auth/user/list",
  "etcdserverpb.Auth/UserDelete": "/v3/auth/user/delete",
  "etcdserverpb.Auth/UserChangePassword": "/v3/auth/user/changepw",
  "etcdserverpb.Auth/UserGrantRole": "/v3/auth/user/grant",
  "etcdserverpb.Auth/UserRevokeRole": "/v3/auth/user/revoke",
  "etcdserverpb.Auth/RoleAdd": "/v3/auth/role/add",
  "etcdserverpb.Auth/RoleGet": "/v3/auth/role/get",
  "etcdserverpb.Auth/RoleList": "/v3/auth/role/list",
  "etcdserverpb.Auth/RoleDelete": "/v3/auth/role/delete",
  "etcdserverpb.Auth/RoleGrantPermission": "/v3/auth/role/grant",
  "etcdserverpb.Auth/RoleRevokePermission": "/v3/auth/role/revoke",
};

/** A JavaScript exception leaking to the client is a crash of the request path, never an etcd error. */
const crashLike =
  /TypeError|ReferenceError|RangeError|SyntaxError: Unexpected|Cannot read prop|is not a function|is not iterable|undefined is not|Maximum call stack|\bat .+\.js:\d+/;

/**
 * classify says whether an error answer is acceptable: an etcd error (its own text) or a protocol error
 * for a request that does not parse; never Unknown/crash text, never a JS exception.
 */
function acceptable(code: number, message: string): boolean {
  if (crashLike.test(message)) return false;
  return (
    code !== Code.Unknown ||
    message.startsWith("etcdserver:") ||
    message.startsWith("mvcc:") ||
    message.startsWith("auth:")
  );
}

const services: readonly DescService[] = [KV, Watch, Lease, Cluster, Maintenance, Auth];

/**
 * runFuzz sends random (typed), corrupted (raw protobuf bytes) and JSON-gateway requests (valid, mutated
 * and malformed) to every RPC of the etcd API on a live cluster; checks every answer is a valid response
 * or an acceptable error, that no member died, and finally that the members still agree (HashKV) and
 * serve a write.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const rng = new Random(options.seed);
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-fuzz-"));
  const violations: string[] = [];
  const errorKinds = new Map<string, number>();
  let requests = 0;
  let validAnswers = 0;
  let etcdErrors = 0;
  let methods = 0;
  const noteError = (where: string, code: number, message: string) => {
    const kind = `${Code[code] ?? code}: ${message.slice(0, 80)}`;
    errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
    if (acceptable(code, message)) etcdErrors++;
    else violations.push(`${where}: ${kind}`);
  };
  const cluster = await RobustnessCluster.start({
    target: options.target,
    size: options.members ?? 3,
    baseDir,
    rng,
    heartbeatMs: 50,
    electionTimeoutMs: 500,
    snapshotCount: 100,
    ...(options.binary === undefined ? {} : { binary: options.binary }),
  });
  const member = cluster.members[0];
  if (member === undefined) throw new Error("no member");
  const transport = createGrpcTransport({ baseUrl: member.clientUrl });
  const raw = new RawGrpc(member.clientUrl);
  const alive = () => {
    for (const m of cluster.members) {
      if (m.process === undefined || m.process.exitCode !== null || m.process.signalCode !== null) {
        violations.push(`member ${m.name} died: ${m.output.slice(-6000)}`);
        return false;
      }
    }
    return true;
  };
  try {
    for (const service of services) {
      const client = createClient(service, transport) as unknown as Record<
        string,
        (...args: unknown[]) => unknown
      >;
      for (const method of service.methods) {
        const id = `${service.typeName}/${method.name}`;
        if (excluded.has(id)) continue;
        methods++;
        const samples = fc.sample(messageInitArb(method.input), {
          seed: options.seed + methods,
          numRuns: options.perMethod,
        });
        for (const [i, init] of samples.entries()) {
          requests++;
          await typedCall(client, method, init, (ok, code, message) => {
            if (ok) validAnswers++;
            else noteError(`${id} typed #${i}`, code, message);
          });
          const mutated = mutateBytes(toBinary(method.input, create(method.input, init as never)), rng);
          if (method.methodKind === "unary") {
            requests++;
            try {
              const answer = await raw.call(`/${id}`, mutated, 10_000);
              if (answer.grpcStatus === 0) {
                try {
                  fromBinary(method.output, answer.payload ?? new Uint8Array());
                  validAnswers++;
                } catch (err) {
                  violations.push(`${id} raw #${i}: OK answer does not decode: ${errorText(err)}`);
                }
              } else if (answer.grpcStatus === undefined) {
                violations.push(`${id} raw #${i}: no grpc-status (HTTP ${answer.httpStatus})`);
              } else noteError(`${id} raw #${i}`, answer.grpcStatus, answer.grpcMessage);
            } catch (err) {
              violations.push(`${id} raw #${i}: ${errorText(err)}`);
            }
          }
          const route = gatewayRoutes[id];
          if (route !== undefined) {
            requests++;
            const body = jsonBody(method.input, init, i, rng);
            await gatewayCall(member.clientUrl, route, body, method.output, (ok, code, message) => {
              if (ok) validAnswers++;
              else if (code === -1) violations.push(`${id} gateway #${i}: ${message}`);
              else noteError(`${id} gateway #${i}`, code, message);
            });
          }
        }
        if (!alive()) return { methods, requests, validAnswers, etcdErrors, violations, errorKinds };
      }
    }
    await finalCheck(cluster, violations);
  } finally {
    raw.close();
    await cluster.stop();
    fs.rmSync(baseDir, { recursive: true, force: true });
  }
  return { methods, requests, validAnswers, etcdErrors, violations, errorKinds };
}

async function typedCall(
  client: Record<string, (...args: unknown[]) => unknown>,
  method: DescMethod,
  init: Record<string, unknown>,
  report: (ok: boolean, code: number, message: string) => void,
): Promise<void> {
  const call = client[method.localName];
  if (call === undefined) return;
  const abort = new AbortController();
  try {
    switch (method.methodKind) {
      case "unary":
        await (call(init, { timeoutMs: 10_000 }) as Promise<unknown>);
        report(true, 0, "");
        return;
      case "server_streaming": {
        const timer = setTimeout(() => abort.abort(), 500);
        for await (const _ of call(init, { signal: abort.signal }) as AsyncIterable<unknown>) {
          // drain
        }
        clearTimeout(timer);
        report(true, 0, "");
        return;
      }
      default: {
        // Bidi: send the message (twice, to exercise the stream) and read for a moment.
        const timer = setTimeout(() => abort.abort(), 300);
        async function* inputs() {
          yield init;
          yield init;
          await new Promise((resolve) => abort.signal.addEventListener("abort", resolve));
        }
        for await (const _ of call(inputs(), { signal: abort.signal }) as AsyncIterable<unknown>) {
          // drain
        }
        clearTimeout(timer);
        report(true, 0, "");
        return;
      }
    }
  } catch (err) {
    if (abort.signal.aborted) {
      report(true, 0, "");
      return;
    }
    const e = ConnectError.from(err);
    report(false, e.code, e.rawMessage);
  }
}

/** mutateBytes damages an encoded message: flips, truncation, garbage varints, duplication. */
function mutateBytes(data: Uint8Array, rng: Random): Uint8Array {
  const out = [...data];
  const rounds = rng.between(1, 3);
  for (let r = 0; r < rounds; r++) {
    switch (rng.int(5)) {
      case 0:
        if (out.length > 0) out[rng.int(out.length)] = rng.int(256);
        break;
      case 1:
        out.length = rng.int(out.length + 1);
        break;
      case 2:
        out.splice(
          rng.int(out.length + 1),
          0,
          ...Array.from({ length: rng.between(1, 10) }, () => rng.int(256)),
        );
        break;
      case 3:
        // A field with a huge length prefix.
        out.push(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f);
        break;
      case 4:
        out.push(...out.slice(0, rng.int(out.length + 1)));
        break;
    }
  }
  return new Uint8Array(out);
}

/** jsonBody is a valid JSON body, a mutated one (wrong types, big numbers) or garbage, in turn. */
function jsonBody(schema: DescMessage, init: Record<string, unknown>, i: number, rng: Random): string {
  const valid = toJson(schema, create(schema, init as never), { useProtoFieldName: true }) as Record<
    string,
    unknown
  >;
  switch (i % 4) {
    case 0:
      return JSON.stringify(valid);
    case 1: {
      const keys = Object.keys(valid);
      const weird = [null, -1, "x", 1e308, [], {}, true, "-9223372036854775809", "18446744073709551616"];
      const copy: Record<string, unknown> = { ...valid };
      const key = keys.length > 0 ? (keys[rng.int(keys.length)] as string) : "key";
      copy[key] = weird[rng.int(weird.length)];
      return JSON.stringify(copy);
    }
    case 2:
      return JSON.stringify({ ...valid, unknown_field: 1, key: "not base64 !!" });
    default:
      return ["", "{", "[]", "null", '{"key": {"nested": [1, 2, {"x": "y"}]}}', "\u0000"][rng.int(6)] ?? "";
  }
}

async function gatewayCall(
  baseUrl: string,
  route: string,
  body: string,
  output: DescMessage,
  report: (ok: boolean, code: number, message: string) => void,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${route}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    report(false, -1, `no answer: ${errorText(err)}`);
    return;
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    report(false, -1, `HTTP ${res.status}, body is not JSON: ${text.slice(0, 120)}`);
    return;
  }
  if (res.status === 200) {
    try {
      fromJson(output, json as never, { ignoreUnknownFields: true });
      report(true, 0, "");
    } catch (err) {
      report(false, -1, `200 answer does not parse as ${output.typeName}: ${errorText(err)}`);
    }
    return;
  }
  const e = json as { code?: number; message?: string; error?: string };
  if (typeof e.code !== "number") {
    report(false, -1, `HTTP ${res.status} without a gRPC code: ${text.slice(0, 120)}`);
    return;
  }
  report(false, e.code, e.message ?? e.error ?? "");
}

/** finalCheck: alarms disarmed, a write goes through, and every member has the same HashKV. */
async function finalCheck(cluster: RobustnessCluster, violations: string[]): Promise<void> {
  const first = cluster.members[0];
  if (first === undefined) return;
  try {
    const alarms = await first.client.maintenance.alarm(
      { action: AlarmRequest_AlarmAction.GET },
      { timeoutMs: 5000 },
    );
    for (const alarm of alarms.alarms) {
      await first.client.maintenance.alarm(
        { action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: alarm.memberID, alarm: alarm.alarm },
        { timeoutMs: 5000 },
      );
    }
    await cluster.waitHealthy(cluster.members, 20_000);
    await first.client.kv.put({ key: bytes("fuzz/final"), value: bytes("ok") }, { timeoutMs: 5000 });
    const hashes = await cluster.converge(20_000);
    if (new Set(hashes.map((h) => h.hash)).size !== 1) {
      violations.push(
        `HashKV differs after fuzzing: ${hashes.map((h) => `${h.member}=${h.hash}`).join(", ")}`,
      );
    }
  } catch (err) {
    violations.push(`final consistency check failed: ${errorText(err)}`);
  }
}
