import { type Client, createClient } from "@connectrpc/connect";
import { KV, Lease, Watch } from "@etcd-ts/proto/etcdserverpb";
import { Connections } from "./connections.js";
import { findLeader } from "./leader.js";
import type { GlobalOptions } from "./options.js";

/**
 * BenchContext is the connections and per-connection service clients of one run. Requester `c` uses
 * connection `c % conns`, so `--clients` requesters share `--conns` HTTP/2 connections evenly.
 */
export class BenchContext {
  readonly options: GlobalOptions;
  readonly endpoints: readonly string[];
  readonly connections: Connections;
  private readonly kvClients: Client<typeof KV>[];
  private readonly leaseClients: Client<typeof Lease>[];
  private readonly watchClients: Client<typeof Watch>[];

  private constructor(options: GlobalOptions, endpoints: readonly string[]) {
    this.options = options;
    this.endpoints = endpoints;
    this.connections = Connections.open(endpoints, options.conns, options.transport);
    this.kvClients = this.connections.list.map((c) => createClient(KV, c.transport));
    this.leaseClients = this.connections.list.map((c) => createClient(Lease, c.transport));
    this.watchClients = this.connections.list.map((c) => createClient(Watch, c.transport));
  }

  /** open resolves `--target-leader` and opens the connections. */
  static async open(options: GlobalOptions): Promise<BenchContext> {
    const endpoints = options.targetLeader ? [await findLeader(options.endpoints)] : options.endpoints;
    return new BenchContext(options, endpoints);
  }

  /** kv is the KV client requester `client` uses. */
  kv(client: number): Client<typeof KV> {
    return this.kvClients[client % this.kvClients.length]!;
  }

  /** lease is the Lease client requester `client` uses. */
  lease(client: number): Client<typeof Lease> {
    return this.leaseClients[client % this.leaseClients.length]!;
  }

  /** watch is the Watch client requester (or stream) `client` uses. */
  watch(client: number): Client<typeof Watch> {
    return this.watchClients[client % this.watchClients.length]!;
  }

  /** close ends every connection. */
  close(): void {
    this.connections.close();
  }
}
