import type { DescService } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { HttpEndpoint } from "./api/router.js";
import { toConnectError } from "./errors.js";

/** MetricsSource is the member state that gauges read when scraped (nothing to update on the hot path). */
export interface MetricsSource {
  hasLeader(): boolean;
  isLeader(): boolean;
  isLearner(): boolean;
  committedIndex(): number;
  appliedIndex(): number;
  pendingProposals(): number;
  dbSizeBytes(): number;
  quotaBytes(): number;
  currentRevision(): number;
  compactRevision(): number;
  watchers(): number;
  memberId(): string;
  version(): string;
}

/** Histogram buckets as etcd's: disk latencies from 1 ms doubling, network from 0.1 ms doubling. */
const diskBuckets = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);
const networkBuckets = Array.from({ length: 16 }, (_, i) => 0.0001 * 2 ** i);

const grpcTypes: Record<string, string> = {
  unary: "unary",
  server_streaming: "server_stream",
  client_streaming: "client_stream",
  bidi_streaming: "bidi_stream",
};

/**
 * ServerMetrics are one member's Prometheus metrics under etcd's names, in a registry of its own (so two
 * members in one process do not share counters). Gauges are read from the member when scraped; counters
 * and histograms are observed where the work happens.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly leaderChanges: Counter;
  readonly proposalsFailed: Counter;
  readonly walFsyncSeconds: Histogram;
  readonly backendCommitSeconds: Histogram;
  readonly snapshotSaveSeconds: Histogram;
  readonly peerRoundTripSeconds: Histogram<"To">;
  readonly peerSentFailures: Counter<"To">;
  readonly grpcStarted: Counter<"grpc_type" | "grpc_service" | "grpc_method">;
  readonly grpcHandled: Counter<"grpc_type" | "grpc_service" | "grpc_method" | "grpc_code">;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", () =>
      source.hasLeader() ? 1 : 0,
    );
    gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", () =>
      source.isLeader() ? 1 : 0,
    );
    gauge("etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.", () =>
      source.isLearner() ? 1 : 0,
    );
    gauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.", () =>
      source.committedIndex(),
    );
    gauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.", () =>
      source.appliedIndex(),
    );
    gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.", () =>
      source.pendingProposals(),
    );
    gauge(
      "etcd_mvcc_db_total_size_in_bytes",
      "Total size of the underlying database physically allocated in bytes.",
      () => source.dbSizeBytes(),
    );
    gauge(
      "etcd_mvcc_db_total_size_in_use_in_bytes",
      "Total size of the underlying database logically in use in bytes.",
      () => source.dbSizeBytes(),
    );
    gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", () =>
      source.quotaBytes(),
    );
    gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.", () =>
      source.currentRevision(),
    );
    gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.", () =>
      source.compactRevision(),
    );
    gauge("etcd_debugging_mvcc_watcher_total", "Total number of watchers.", () => source.watchers());
    new Gauge({
      name: "etcd_server_id",
      help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
      labelNames: ["server_id"],
      registers,
      collect() {
        this.reset();
        this.set({ server_id: source.memberId() }, 1);
      },
    });
    new Gauge({
      name: "etcd_server_version",
      help: "Which version is running. 1 for 'server_version' label with current version.",
      labelNames: ["server_version"],
      registers,
      collect() {
        this.reset();
        this.set({ server_version: source.version() }, 1);
      },
    });
    this.leaderChanges = new Counter({
      name: "etcd_server_leader_changes_seen_total",
      help: "The number of leader changes seen.",
      registers,
    });
    this.proposalsFailed = new Counter({
      name: "etcd_server_proposals_failed_total",
      help: "The total number of failed proposals seen.",
      registers,
    });
    this.walFsyncSeconds = new Histogram({
      name: "etcd_disk_wal_fsync_duration_seconds",
      help: "The latency distributions of fsync called by WAL.",
      buckets: diskBuckets,
      registers,
    });
    this.backendCommitSeconds = new Histogram({
      name: "etcd_disk_backend_commit_duration_seconds",
      help: "The latency distributions of commit called by backend.",
      buckets: diskBuckets,
      registers,
    });
    this.snapshotSaveSeconds = new Histogram({
      name: "etcd_debugging_snap_save_total_duration_seconds",
      help: "The total latency distributions of save called by snapshot.",
      buckets: diskBuckets,
      registers,
    });
    this.peerRoundTripSeconds = new Histogram({
      name: "etcd_network_peer_round_trip_time_seconds",
      help: "Round-Trip-Time histogram between peers",
      labelNames: ["To"],
      buckets: networkBuckets,
      registers,
    });
    this.peerSentFailures = new Counter({
      name: "etcd_network_peer_sent_failures_total",
      help: "The total number of send failures from peers.",
      labelNames: ["To"],
      registers,
    });
    this.grpcStarted = new Counter({
      name: "grpc_server_started_total",
      help: "Total number of RPCs started on the server.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method"],
      registers,
    });
    this.grpcHandled = new Counter({
      name: "grpc_server_handled_total",
      help: "Total number of RPCs completed on the server, regardless of success or failure.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** text renders every metric in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** endpoint serves GET /metrics. */
  endpoint(): HttpEndpoint {
    return (req, res) => {
      if ((req.url ?? "/").split("?")[0] !== "/metrics") return false;
      void this.text().then(
        (body) => {
          res.writeHead(200, { "content-type": this.registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(err));
        },
      );
      return true;
    };
  }
}

/**
 * instrumentService wraps a service implementation so that every RPC counts in grpc_server_started_total
 * and grpc_server_handled_total (with its final code), whichever path serves it (gRPC fast path, Connect,
 * gRPC-Web, the JSON gateway).
 */
export function instrumentService<T extends object>(
  service: DescService,
  impl: T,
  metrics: ServerMetrics,
): T {
  const out: Record<string, unknown> = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName];
    if (typeof fn !== "function") continue;
    const labels = {
      grpc_type: grpcTypes[method.methodKind] ?? method.methodKind,
      grpc_service: service.typeName,
      grpc_method: method.name,
    };
    const handled = (err: unknown) =>
      metrics.grpcHandled.inc({
        ...labels,
        grpc_code: err === undefined ? "OK" : Code[toConnectError(err).code],
      });
    const call = fn.bind(impl) as (input: unknown, ctx: unknown) => unknown;
    if (method.methodKind === "unary" || method.methodKind === "client_streaming") {
      out[method.localName] = async (input: unknown, ctx: unknown) => {
        metrics.grpcStarted.inc(labels);
        try {
          const res = await call(input, ctx);
          handled(undefined);
          return res;
        } catch (err) {
          handled(err);
          throw err;
        }
      };
    } else {
      out[method.localName] = async function* (input: unknown, ctx: unknown) {
        metrics.grpcStarted.inc(labels);
        try {
          yield* call(input, ctx) as AsyncIterable<unknown>;
          handled(undefined);
        } catch (err) {
          handled(err);
          throw err;
        }
      };
    }
  }
  return out as T;
}
