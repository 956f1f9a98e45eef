import { assert } from "../assert.js";
import type { EtcdOperation } from "../checker/etcd-linearizability.js";
import { type EtcdClient, errorText, isRefusedConnection } from "../cluster/etcd-client.js";
import type { EtcdRequest, EtcdResponse, TxnOp } from "../model/etcd-types.js";
import { Random } from "../random.js";
import { sleep } from "../sleep.js";

/** keyPrefix is where the traffic writes by default; `keyName(i)` are its keys. */
export const keyPrefix = "key/";
/** keyPrefixEnd is the range end that covers exactly the prefix. */
export const keyPrefixEnd = prefixEnd(keyPrefix);
/** keyName is the i-th key of the traffic under `prefix`. */
export const keyName = (i: number, prefix = keyPrefix) => `${prefix}${i}`;

/** prefixEnd is the range end covering exactly the keys that start with `prefix` (ASCII prefixes). */
export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  assert(prefix.length > 0 && last < 0x7f, "an ASCII prefix");
  return `${prefix.slice(0, -1)}${String.fromCharCode(last + 1)}`;
}

/** leaseTtlSeconds is long: no lease expires during a run (expiry is not in the model). */
const leaseTtlSeconds = 3600;

/** etcdTrafficWeights is etcd's robustness request mix (tests/robustness/traffic). */
export const etcdTrafficWeights = {
  get: 15,
  put: 20,
  multiOpTxn: 10,
  staleGet: 10,
  staleList: 10,
  list: 15,
  delete: 5,
  putWithLease: 5,
  leaseRevoke: 5,
  compareAndSet: 5,
} as const;

/** TrafficOptions configure the client load. */
export interface TrafficOptions {
  readonly clients: number;
  readonly keys: number;
  /** qps is the target total request rate. */
  readonly qps: number;
  readonly requestTimeoutMs: number;
  readonly seed: number;
  /** prefix is where the keys live (default `keyPrefix`); the soak gives each window its own. */
  readonly prefix?: string;
}

/** TrafficStats count what the clients did. */
export interface TrafficStats {
  requests: number;
  succeeded: number;
  failed: number;
  /** failures counts the failed requests by error message (timeouts, "leader changed", ...). */
  readonly failures: Map<string, number>;
}

/**
 * Traffic drives `clients` sequential clients (each one request at a time) with etcd's robustness mix on
 * a few keys and records every request as a history operation: call and return time, the answer, or
 * none when the request failed (its outcome unknown). Every put writes a unique value.
 */
export class Traffic {
  readonly history: EtcdOperation[] = [];
  readonly stats: TrafficStats = { requests: 0, succeeded: 0, failed: 0, failures: new Map() };
  #running = false;
  #loops: Promise<void>[] = [];
  #nextSlot = 0;

  constructor(
    private readonly options: TrafficOptions,
    /** clientFor gives the connection client `i` uses now (pinned, or rotating after failures). */
    private readonly clientFor: (clientId: number, failures: number) => EtcdClient,
    /** now is the run clock (ms). */
    private readonly now: () => number,
  ) {}

  /** start launches the client loops. */
  start(): void {
    this.#running = true;
    this.#nextSlot = this.now();
    this.#loops = Array.from({ length: this.options.clients }, (_, i) => this.#loop(i));
  }

  /** stop lets each client finish its request in flight and returns. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** record runs one request and appends it to the history. */
  async record(
    clientId: number,
    client: EtcdClient,
    request: EtcdRequest,
  ): Promise<EtcdResponse | undefined> {
    const call = this.now();
    this.stats.requests++;
    try {
      const output = await client.execute(request, this.options.requestTimeoutMs);
      this.history.push({ clientId, input: request, call, output, return: this.now() });
      this.stats.succeeded++;
      return output;
    } catch (err) {
      this.stats.failed++;
      const reason = errorText(err).slice(0, 80);
      this.stats.failures.set(reason, (this.stats.failures.get(reason) ?? 0) + 1);
      // A refused connection never carried the request: it certainly did not happen.
      if (!isRefusedConnection(err)) {
        this.history.push({
          clientId,
          input: request,
          call,
          output: undefined,
          return: Number.POSITIVE_INFINITY,
        });
      }
      return undefined;
    }
  }

  async #loop(clientId: number): Promise<void> {
    const rng = new Random(this.options.seed * 31 + clientId);
    const interval = 1000 / this.options.qps;
    const prefix = this.options.prefix ?? keyPrefix;
    const end = prefixEnd(prefix);
    const lastMod = new Map<string, number>();
    let lastRevision = 0;
    let lease = 0;
    let seq = 0;
    let failures = 0;
    while (this.#running) {
      const slot = Math.max(this.#nextSlot, this.now());
      this.#nextSlot = slot + interval;
      const wait = slot - this.now();
      if (wait > 0) await sleep(wait);
      if (!this.#running) break;
      const key = keyName(rng.int(this.options.keys), prefix);
      const value = () => `c${clientId}-${seq++}`;
      const kind = rng.weighted(etcdTrafficWeights);
      let request: EtcdRequest;
      switch (kind) {
        case "get":
          request = { type: "range", key };
          break;
        case "put":
          request = { type: "put", key, value: value() };
          break;
        case "staleGet":
        case "staleList": {
          const revision = Math.max(1, lastRevision - rng.int(10));
          request =
            kind === "staleGet" || lastRevision === 0
              ? { type: "range", key, revision }
              : { type: "range", key: prefix, end, revision };
          break;
        }
        case "list":
          request = { type: "range", key: prefix, end };
          break;
        case "delete":
          request = { type: "delete", key };
          break;
        case "putWithLease":
          request =
            lease === 0
              ? { type: "leaseGrant", ttlSeconds: leaseTtlSeconds }
              : { type: "put", key, value: value(), lease };
          break;
        case "leaseRevoke":
          request =
            lease === 0
              ? { type: "leaseGrant", ttlSeconds: leaseTtlSeconds }
              : { type: "leaseRevoke", lease };
          if (lease !== 0) lease = 0;
          break;
        case "compareAndSet":
          request = {
            type: "txn",
            compare: [{ key, target: "mod", result: "=", value: lastMod.get(key) ?? 0 }],
            success: [{ type: "put", key, value: value() }],
            failure: [{ type: "range", key }],
          };
          break;
        case "multiOpTxn": {
          const picked = new Set<number>();
          const count = rng.between(2, 4);
          while (picked.size < Math.min(count, this.options.keys)) picked.add(rng.int(this.options.keys));
          const ops: TxnOp[] = [...picked].map((i) =>
            rng.chance(0.5)
              ? { type: "range", key: keyName(i, prefix) }
              : { type: "put", key: keyName(i, prefix), value: value() },
          );
          request = { type: "txn", compare: [], success: ops, failure: [] };
          break;
        }
      }
      const client = this.clientFor(clientId, failures);
      const output = await this.record(clientId, client, request);
      if (output === undefined) {
        failures++;
        continue;
      }
      if ("revision" in output) lastRevision = Math.max(lastRevision, output.revision);
      if (output.type === "leaseGrant") lease = output.lease;
      const seen =
        output.type === "range"
          ? output.kvs
          : output.type === "txn"
            ? output.results.flatMap((r) => (r.type === "range" ? r.kvs : []))
            : [];
      for (const kv of seen) lastMod.set(kv.key, kv.modRevision);
      if (
        output.type === "range" &&
        request.type === "range" &&
        request.end === undefined &&
        request.revision === undefined &&
        output.kvs.length === 0
      ) {
        lastMod.set(key, 0);
      }
    }
  }
}
