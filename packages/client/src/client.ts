/**
 * EtcdClient: the entry point. It owns the connection (endpoints, failover, retries, auth) and exposes KV
 * directly (`get`, `put`, `delete`, `txn`, `compact`), watches (`watch`), and the other APIs as properties
 * (`lease`, `cluster`, `maintenance`, `auth`).
 */
import { KV } from "@etcd-ts/proto/etcdserverpb";
import { AuthClient } from "./auth.js";
import type { Bytes } from "./bytes.js";
import { ClusterClient } from "./cluster.js";
import { type CallSettings, Connection, type Credentials, type RetryOptions } from "./connection.js";
import type { Protocol, TlsOptions, TransportFactory } from "./endpoint-transport.js";
import { type ResponseHeader, toHeader } from "./key-value.js";
import {
  type DeleteOptions,
  type DeleteResult,
  deleteRequest,
  type PutOptions,
  type PutResult,
  putRequest,
  type RangeOptions,
  type RangeResult,
  type RevisionLike,
  rangeRequest,
  toDeleteResult,
  toPutResult,
  toRangeResult,
  toRevision,
} from "./kv.js";
import { LeaseClient } from "./lease.js";
import { MaintenanceClient } from "./maintenance.js";
import { createDefaultTransport } from "./transport-node.js";
import { Txn, toTxnResult } from "./txn.js";
import { type Watcher, WatchManager, type WatchOptions } from "./watch.js";

/** EtcdClientOptions configure an {@link EtcdClient}. */
export interface EtcdClientOptions {
  /** endpoints are "host:port" or URLs ("http://..." / "https://..."); the client fails over between them. */
  endpoints: string | readonly string[];
  /** auth logs in with a user name and password; the token is renewed when the server rejects it. */
  auth?: Credentials;
  /** tls turns on TLS (https) and, with cert and key, client certificates. */
  tls?: TlsOptions;
  /** protocol is "grpc" (default; what etcd speaks), or "grpc-web" / "connect" (etcd-ts only). */
  protocol?: Protocol;
  /** transport replaces the transport factory (the browser build defaults to fetch-based gRPC-Web). */
  transport?: TransportFactory;
  /** dialTimeoutMs bounds opening a connection to one endpoint before failing over (default 5000). */
  dialTimeoutMs?: number;
  /** callTimeoutMs is the default deadline of unary calls (default: none). */
  callTimeoutMs?: number;
  /** retry bounds retries of safe calls after Unavailable errors. */
  retry?: RetryOptions;
  /** keepAliveIntervalMs sends HTTP/2 PINGs on a quiet connection to notice a dead member (default 10000). */
  keepAliveIntervalMs?: number;
  /** keepAliveTimeoutMs closes a connection whose PING is not answered in time (default 5000). */
  keepAliveTimeoutMs?: number;
}

/** GetOptions are RangeOptions plus per-call settings. */
export type GetOptions = RangeOptions & CallSettings;

/** EtcdClient talks to an etcd (or etcd-ts) cluster. Call close() when done. */
export class EtcdClient {
  /** lease is the Lease API. */
  readonly lease: LeaseClient;
  /** cluster is the Cluster API. */
  readonly cluster: ClusterClient;
  /** maintenance is the Maintenance API. */
  readonly maintenance: MaintenanceClient;
  /** auth is the Auth API. */
  readonly auth: AuthClient;
  /** connection is the shared RPC machinery (used by the concurrency recipes). */
  readonly connection: Connection;
  private readonly watches: WatchManager;

  constructor(options: EtcdClientOptions) {
    const endpoints = typeof options.endpoints === "string" ? [options.endpoints] : [...options.endpoints];
    if (endpoints.length === 0) throw new TypeError("etcd-ts client: at least one endpoint is needed");
    this.connection = new Connection({
      endpoints,
      protocol: options.protocol ?? "grpc",
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.auth === undefined ? {} : { credentials: options.auth }),
      transportFactory: options.transport ?? createDefaultTransport,
      dialTimeoutMs: options.dialTimeoutMs ?? 5_000,
      ...(options.callTimeoutMs === undefined ? {} : { defaultCallTimeoutMs: options.callTimeoutMs }),
      retry: options.retry ?? {},
      pingIntervalMs: options.keepAliveIntervalMs ?? 10_000,
      pingTimeoutMs: options.keepAliveTimeoutMs ?? 5_000,
    });
    this.lease = new LeaseClient(this.connection);
    this.cluster = new ClusterClient(this.connection);
    this.maintenance = new MaintenanceClient(this.connection);
    this.auth = new AuthClient(this.connection);
    this.watches = new WatchManager(this.connection);
  }

  /** endpoints lists the client's endpoints as URLs, the one in use first. */
  get endpoints(): string[] {
    return this.connection.endpointUrls();
  }

  /** get reads a key, or a range with `end` / `prefix` / `fromKey`. */
  async get(key: Bytes, options?: GetOptions): Promise<RangeResult> {
    const request = rangeRequest(key, options);
    const response = await this.connection.unary(true, options, (endpoint, call) =>
      endpoint.client(KV).range(request, call),
    );
    return toRangeResult(response);
  }

  /** getAll reads every key (or every key under `prefix`). */
  async getAll(
    options: Omit<GetOptions, "prefix" | "end" | "fromKey"> & { prefix?: Bytes } = {},
  ): Promise<RangeResult> {
    const { prefix, ...rest } = options;
    return this.get(prefix ?? "", { ...rest, prefix: true });
  }

  /** getString reads one key's value as UTF-8 (undefined when the key does not exist). */
  async getString(
    key: Bytes,
    options?: Omit<GetOptions, "prefix" | "end" | "fromKey">,
  ): Promise<string | undefined> {
    const result = await this.get(key, options);
    return result.kvs[0]?.valueString;
  }

  /** put writes a key. */
  async put(key: Bytes, value: Bytes, options?: PutOptions & CallSettings): Promise<PutResult> {
    const request = putRequest(key, value, options);
    const response = await this.connection.unary(false, options, (endpoint, call) =>
      endpoint.client(KV).put(request, call),
    );
    return toPutResult(response);
  }

  /** delete deletes a key, or a range with `end` / `prefix` / `fromKey`. */
  async delete(key: Bytes, options?: DeleteOptions & CallSettings): Promise<DeleteResult> {
    const request = deleteRequest(key, options);
    const response = await this.connection.unary(false, options, (endpoint, call) =>
      endpoint.client(KV).deleteRange(request, call),
    );
    return toDeleteResult(response);
  }

  /** deleteAll deletes every key (or every key under `prefix`). */
  async deleteAll(options: { prefix?: Bytes; prevKv?: boolean } & CallSettings = {}): Promise<DeleteResult> {
    const { prefix, ...rest } = options;
    return this.delete(prefix ?? "", { ...rest, prefix: true });
  }

  /** txn starts a transaction: `client.txn().if(...).onSuccess(...).onFailure(...).commit()`. */
  txn(): Txn {
    return new Txn(async (txn, settings) => {
      const request = txn.toRequest();
      const response = await this.connection.unary(!txn.writes, settings, (endpoint, call) =>
        endpoint.client(KV).txn(request, call),
      );
      return toTxnResult(response);
    });
  }

  /** compact discards history before `revision` (physical: wait until the space is reclaimed). */
  async compact(
    revision: RevisionLike,
    options: { physical?: boolean } & CallSettings = {},
  ): Promise<{ header: ResponseHeader }> {
    const response = await this.connection.unary(false, options, (endpoint, call) =>
      endpoint
        .client(KV)
        .compact({ revision: toRevision(revision), physical: options.physical ?? false }, call),
    );
    return { header: toHeader(response.header) };
  }

  /** watch watches a key, or a range with `end` / `prefix` / `fromKey` (see {@link Watcher}). */
  watch(key: Bytes, options?: WatchOptions): Watcher {
    return this.watches.watch(key, options);
  }

  /** requestWatchProgress asks the server for a progress notification on the shared watch stream. */
  requestWatchProgress(): boolean {
    return this.watches.requestProgress();
  }

  /** close cancels every call, watch and keep-alive and closes the connections. */
  close(): void {
    this.connection.close();
  }
}
