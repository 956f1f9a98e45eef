import { type Client, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  Cluster,
  Compare_CompareResult,
  Compare_CompareTarget,
  KV,
  Lease,
  Maintenance,
  type ResponseOp,
  Watch,
} from "@etcd-ts/proto/etcdserverpb";
import type { KeyValue as PbKeyValue } from "@etcd-ts/proto/mvccpb";
import { assert } from "../assert.js";
import type { Compare, EtcdRequest, EtcdResponse, KeyValue, TxnOp, TxnResult } from "../model/etcd-types.js";
import { GrpcError, UnaryGrpc } from "./grpc-unary.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** bytes encodes a key or value (the traffic only uses ASCII). */
export const bytes = (text: string): Uint8Array => encoder.encode(text);
/** text decodes a key or value. */
export const text = (data: Uint8Array): string => decoder.decode(data);

/** toNumber converts an int64 from the API to a number, asserting it is safe. */
export function toNumber(value: bigint): number {
  const n = Number(value);
  assert(Number.isSafeInteger(n), `int64 ${value} is not a safe integer`);
  return n;
}

/**
 * Lease ids are random-looking 63-bit integers in etcd and etcd-ts, beyond a JavaScript number. The model
 * names each lease by a small number instead: the order in which this process first saw its id (shared by
 * every client, since a lease granted through one member is used through another). 0 stays "no lease".
 */
const leaseNumbers = new Map<bigint, number>();
const leaseIds: bigint[] = [0n];

/** leaseNumber is the model's number for a lease id (assigned on first sight). */
export function leaseNumber(id: bigint): number {
  if (id === 0n) return 0;
  let n = leaseNumbers.get(id);
  if (n === undefined) {
    n = leaseIds.length;
    leaseIds.push(id);
    leaseNumbers.set(id, n);
  }
  return n;
}

/** leaseId is the lease id behind a model number (0 for none). */
export function leaseId(n: number): bigint {
  const id = leaseIds[n];
  assert(id !== undefined, `lease number ${n} was never seen`);
  return id;
}

/** toKeyValue converts mvccpb.KeyValue to the model's form. */
export function toKeyValue(kv: PbKeyValue): KeyValue {
  return {
    key: text(kv.key),
    value: text(kv.value),
    modRevision: toNumber(kv.modRevision),
    createRevision: toNumber(kv.createRevision),
    version: toNumber(kv.version),
    lease: leaseNumber(kv.lease),
  };
}

/** leaseNotFound is etcd's text for a lease that does not exist (a definite failure). */
export const leaseNotFound = "etcdserver: requested lease not found";

/** errorText is the message of an RPC failure as etcd sends it. */
export function errorText(err: unknown): string {
  if (err instanceof ConnectError || err instanceof GrpcError) return err.rawMessage;
  return err instanceof Error ? err.message : String(err);
}

/**
 * isRefusedConnection reports whether a call failed because its connection was refused: the request never
 * left this process. It is the system error itself (code ECONNREFUSED, or a pending stream cancelled because
 * of it), never a server's answer that merely mentions it.
 */
export function isRefusedConnection(err: unknown): boolean {
  if (err instanceof GrpcError || err instanceof ConnectError) return false;
  const e = err as (NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }) | undefined;
  if (e?.code === "ECONNREFUSED") return true;
  // A stream still pending on a session that failed to connect is cancelled with the session's error.
  return e?.code === "ERR_HTTP2_STREAM_CANCEL" && e.cause?.code === "ECONNREFUSED";
}

const compareTargets = {
  value: Compare_CompareTarget.VALUE,
  mod: Compare_CompareTarget.MOD,
  create: Compare_CompareTarget.CREATE,
  version: Compare_CompareTarget.VERSION,
  lease: Compare_CompareTarget.LEASE,
} as const;
const compareResults = {
  "=": Compare_CompareResult.EQUAL,
  "!=": Compare_CompareResult.NOT_EQUAL,
  "<": Compare_CompareResult.LESS,
  ">": Compare_CompareResult.GREATER,
} as const;

function toCompare(cmp: Compare) {
  const union =
    cmp.target === "value"
      ? { case: "value" as const, value: bytes(String(cmp.value)) }
      : cmp.target === "mod"
        ? { case: "modRevision" as const, value: BigInt(cmp.value) }
        : cmp.target === "create"
          ? { case: "createRevision" as const, value: BigInt(cmp.value) }
          : cmp.target === "version"
            ? { case: "version" as const, value: BigInt(cmp.value) }
            : { case: "lease" as const, value: leaseId(Number(cmp.value)) };
  return {
    key: bytes(cmp.key),
    target: compareTargets[cmp.target],
    result: compareResults[cmp.result],
    targetUnion: union,
  };
}

function toRequestOp(op: TxnOp) {
  switch (op.type) {
    case "range":
      return {
        request: {
          case: "requestRange" as const,
          value: { key: bytes(op.key), rangeEnd: op.end === undefined ? new Uint8Array() : bytes(op.end) },
        },
      };
    case "put":
      return {
        request: {
          case: "requestPut" as const,
          value: { key: bytes(op.key), value: bytes(op.value), lease: leaseId(op.lease ?? 0) },
        },
      };
    case "delete":
      return { request: { case: "requestDeleteRange" as const, value: { key: bytes(op.key) } } };
  }
}

function fromResponseOp(op: ResponseOp): TxnResult {
  switch (op.response.case) {
    case "responseRange":
      return { type: "range", kvs: op.response.value.kvs.map(toKeyValue) };
    case "responsePut":
      return { type: "put" };
    case "responseDeleteRange":
      return { type: "delete", deleted: toNumber(op.response.value.deleted) };
    default:
      throw new Error(`unexpected txn response op ${String(op.response.case)}`);
  }
}

/**
 * EtcdClient is one gRPC client of one member: the etcd services as Connect clients (their own HTTP/2
 * session), and `execute` for the model's requests, which goes through a lean unary client on a second
 * session (grpc-unary.ts: the traffic's calls are most of the harness's CPU).
 */
export class EtcdClient {
  readonly kv: Client<typeof KV>;
  readonly watch: Client<typeof Watch>;
  readonly lease: Client<typeof Lease>;
  readonly maintenance: Client<typeof Maintenance>;
  readonly cluster: Client<typeof Cluster>;
  readonly #sessions: Http2SessionManager;
  readonly #unary: UnaryGrpc;

  /** endpoint is a client URL, e.g. http://127.0.0.1:2379. */
  constructor(readonly endpoint: string) {
    this.#sessions = new Http2SessionManager(endpoint, { pingIntervalMs: 1000, pingTimeoutMs: 1000 });
    const transport = createGrpcTransport({ baseUrl: endpoint, sessionManager: this.#sessions });
    this.kv = createClient(KV, transport);
    this.watch = createClient(Watch, transport);
    this.lease = createClient(Lease, transport);
    this.maintenance = createClient(Maintenance, transport);
    this.cluster = createClient(Cluster, transport);
    this.#unary = new UnaryGrpc(endpoint);
  }

  /** close drops the HTTP/2 session (streams in flight fail). */
  close(): void {
    this.#sessions.abort();
    this.#unary.close();
  }

  /**
   * execute sends one model request and converts the answer. "lease not found" comes back as a definite
   * error response; any other failure throws (its outcome is unknown).
   */
  async execute(request: EtcdRequest, timeoutMs: number): Promise<EtcdResponse> {
    const unary = this.#unary;
    try {
      switch (request.type) {
        case "range": {
          const res = await unary.call(
            KV.method.range,
            {
              key: bytes(request.key),
              rangeEnd: request.end === undefined ? new Uint8Array() : bytes(request.end),
              revision: BigInt(request.revision ?? 0),
            },
            timeoutMs,
          );
          return {
            type: "range",
            revision: toNumber(res.header?.revision ?? 0n),
            kvs: res.kvs.map(toKeyValue),
          };
        }
        case "put": {
          const res = await unary.call(
            KV.method.put,
            { key: bytes(request.key), value: bytes(request.value), lease: leaseId(request.lease ?? 0) },
            timeoutMs,
          );
          return { type: "put", revision: toNumber(res.header?.revision ?? 0n) };
        }
        case "delete": {
          const res = await unary.call(KV.method.deleteRange, { key: bytes(request.key) }, timeoutMs);
          return {
            type: "delete",
            revision: toNumber(res.header?.revision ?? 0n),
            deleted: toNumber(res.deleted),
          };
        }
        case "txn": {
          const res = await unary.call(
            KV.method.txn,
            {
              compare: request.compare.map(toCompare),
              success: request.success.map(toRequestOp),
              failure: request.failure.map(toRequestOp),
            },
            timeoutMs,
          );
          return {
            type: "txn",
            revision: toNumber(res.header?.revision ?? 0n),
            succeeded: res.succeeded,
            results: res.responses.map(fromResponseOp),
          };
        }
        case "leaseGrant": {
          const res = await unary.call(
            Lease.method.leaseGrant,
            { TTL: BigInt(request.ttlSeconds) },
            timeoutMs,
          );
          if (res.error !== "") throw new Error(res.error);
          return {
            type: "leaseGrant",
            revision: toNumber(res.header?.revision ?? 0n),
            lease: leaseNumber(res.ID),
          };
        }
        case "leaseRevoke": {
          const res = await unary.call(Lease.method.leaseRevoke, { ID: leaseId(request.lease) }, timeoutMs);
          return { type: "leaseRevoke", revision: toNumber(res.header?.revision ?? 0n) };
        }
      }
    } catch (err) {
      if (errorText(err) === leaseNotFound) return { type: "error", error: "lease not found" };
      throw err;
    }
  }
}
