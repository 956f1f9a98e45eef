import { assert } from "./assert.js";
import { cipherList } from "./http/tls-config.js";

/**
 * ServerConfig is everything a member needs to start, with etcd's flag names in comments. Durations carry
 * their unit in the name.
 */
export interface ServerConfig {
  /** --name: human-readable name of this member. */
  name: string;
  /** --data-dir: where the WAL (member/wal) and the backend (member/snap/db) live. */
  dataDir: string;
  /** --wal-dir: a dedicated WAL directory; "" means <data-dir>/member/wal. */
  walDir: string;
  /** --listen-client-urls: where clients connect (http://host:port). */
  listenClientUrls: string[];
  /** --advertise-client-urls: what this member tells clients (MemberList). */
  advertiseClientUrls: string[];
  /** --listen-peer-urls. */
  listenPeerUrls: string[];
  /** --initial-advertise-peer-urls. */
  initialAdvertisePeerUrls: string[];
  /** --initial-cluster: name=peerURL,... ; empty means just this member. */
  initialCluster: string;
  /** --initial-cluster-state. */
  initialClusterState: "new" | "existing";
  /** --initial-cluster-token. */
  initialClusterToken: string;
  /** --heartbeat-interval (ms). */
  heartbeatIntervalMs: number;
  /** --election-timeout (ms). */
  electionTimeoutMs: number;
  /** --snapshot-count: applied entries between snapshots. */
  snapshotCount: number;
  /** --quota-backend-bytes: 0 means the default, 2 GiB. */
  quotaBackendBytes: number;
  /** --max-request-bytes. */
  maxRequestBytes: number;
  /** --max-txn-ops. */
  maxTxnOps: number;
  /** --auth-token: "simple" or "jwt,...". */
  authToken: string;
  /** --bcrypt-cost. */
  bcryptCost: number;
  /** --auto-compaction-mode. */
  autoCompactionMode: "periodic" | "revision";
  /** --auto-compaction-retention: "0" is off; "1" (hours), "5m", or N revisions. */
  autoCompactionRetention: string;
  /** --cert-file / --key-file: the client port's TLS certificate and key (for https:// client URLs). */
  certFile: string;
  keyFile: string;
  /** --trusted-ca-file: CA bundle for client certificates. */
  trustedCaFile: string;
  /** --client-cert-auth: require a client certificate signed by the trusted CA. */
  clientCertAuth: boolean;
  /** --tls-min-version: TLS1.2 (etcd's floor) or TLS1.3. */
  tlsMinVersion: "TLS1.2" | "TLS1.3";
  /** --watch-progress-notify-interval: how often watchers that asked for it get a progress notification. */
  watchProgressNotifyIntervalMs: number;
  /** --log-level. */
  logLevel: "debug" | "info" | "warn" | "error";
  /** Entries kept behind a raft snapshot for slow followers to catch up without one (--snapshot-catchup-entries). */
  snapshotCatchupEntries: number;
  /** Refuse membership changes that could cost quorum (--strict-reconfig-check). */
  strictReconfigCheck: boolean;
  /** Learners allowed at once (--max-learners). */
  maxLearners: number;
  /** Peer TLS: server cert/key for the peer port and the client cert used to reach peers (--peer-*). */
  peerCertFile: string;
  peerKeyFile: string;
  peerTrustedCaFile: string;
  peerClientCertAuth: boolean;
  /** How often the leader compares hashes at compaction revisions with the other members; 0 = never. */
  compactHashCheckMs: number;
  /** Revoked client certificates (--client-crl-file) and peer certificates (--peer-crl-file). */
  clientCrlFile: string;
  peerCrlFile: string;
  /** Self-signed certificates generated under <data-dir>/fixtures (--auto-tls, --peer-auto-tls). */
  autoTls: boolean;
  peerAutoTls: boolean;
  /** Validity of auto-TLS certificates in years (--self-signed-cert-validity). */
  selfSignedCertValidity: number;
  /** Only peers whose certificate has this CN may connect (--peer-cert-allowed-cn). */
  peerCertAllowedCn: string;
  /** TLS 1.2 cipher suites, Go names (--cipher-suites); empty = Node's defaults. */
  cipherSuites: string[];
  /** The dashboard's built files, served at /ui on the client port; "" turns the UI off. */
  uiDir: string;
  /** Browser origins allowed to call the client port (--cors); empty or "*" allows every origin, as etcd. */
  corsOrigins: string[];
  /** Extra URLs serving only /metrics and the health endpoints (--listen-metrics-urls). */
  listenMetricsUrls: string[];
  /** Compare HashKV with the peers on start, before serving (--initial-corrupt-check). */
  initialCorruptCheck: boolean;
}

/** defaultConfig returns etcd's defaults (for a member named `name`). */
export function defaultConfig(name = "default"): ServerConfig {
  return {
    name,
    dataDir: `${name}.etcd`,
    walDir: "",
    listenClientUrls: ["http://localhost:2379"],
    advertiseClientUrls: ["http://localhost:2379"],
    listenPeerUrls: ["http://localhost:2380"],
    initialAdvertisePeerUrls: ["http://localhost:2380"],
    initialCluster: "",
    initialClusterState: "new",
    initialClusterToken: "etcd-cluster",
    heartbeatIntervalMs: 100,
    electionTimeoutMs: 1000,
    snapshotCount: 10_000,
    quotaBackendBytes: 0,
    maxRequestBytes: 1_572_864,
    maxTxnOps: 128,
    authToken: "simple",
    bcryptCost: 10,
    autoCompactionMode: "periodic",
    autoCompactionRetention: "0",
    logLevel: "info",
    watchProgressNotifyIntervalMs: 10 * 60 * 1000,
    certFile: "",
    keyFile: "",
    trustedCaFile: "",
    clientCertAuth: false,
    tlsMinVersion: "TLS1.2",
    snapshotCatchupEntries: 5000,
    strictReconfigCheck: true,
    maxLearners: 1,
    peerCertFile: "",
    peerKeyFile: "",
    peerTrustedCaFile: "",
    peerClientCertAuth: false,
    compactHashCheckMs: 60_000,
    initialCorruptCheck: true,
    listenMetricsUrls: [],
    clientCrlFile: "",
    peerCrlFile: "",
    autoTls: false,
    peerAutoTls: false,
    selfSignedCertValidity: 1,
    peerCertAllowedCn: "",
    cipherSuites: [],
    uiDir: "",
    corsOrigins: ["*"],
  };
}

/** Limits named in ARCHITECTURE.md that are not flags. */
export const limits = {
  /** committed - applied above this rejects new proposals with "too many requests". */
  maxApplyLag: 5000,
  /** proposals waiting for their entry to apply. */
  maxPendingProposals: 10_000,
  /** default backend quota when --quota-backend-bytes is 0. */
  defaultQuotaBackendBytes: 2 * 1024 * 1024 * 1024,
  /** hard ceiling on the backend quota. */
  maxQuotaBackendBytes: 100 * 1024 * 1024 * 1024,
  /** gRPC receive limit: max request bytes plus 512 KiB of envelope, as etcd does. */
  grpcOverheadBytes: 512 * 1024,
  /** watchers on one Watch stream. */
  maxWatchersPerStream: 10_000,
  /** keep-alive streams' outstanding responses. */
  maxKeepAliveQueue: 1000,
} as const;

/** parseUrl checks a member URL (http or https, host and port) and returns its parts. */
export function parseUrl(url: string): { protocol: "http:" | "https:"; host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`URL scheme must be http or https: ${url}`);
  }
  const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
  assert(Number.isInteger(port), "port is an integer");
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return { protocol: parsed.protocol, host, port };
}

/** validateConfig rejects settings etcd would reject, with a message naming the flag. */
export function validateConfig(config: ServerConfig): void {
  const positive = (value: number, flag: string) => {
    if (!Number.isInteger(value) || value <= 0) throw new Error(`--${flag} must be a positive integer`);
  };
  if (config.name === "") throw new Error("--name must not be empty");
  if (config.dataDir === "") throw new Error("--data-dir must not be empty");
  if (config.initialClusterState !== "new" && config.initialClusterState !== "existing") {
    throw new Error('--initial-cluster-state must be "new" or "existing"');
  }
  if (config.autoCompactionMode !== "periodic" && config.autoCompactionMode !== "revision") {
    throw new Error('--auto-compaction-mode must be "periodic" or "revision"');
  }
  if (!["debug", "info", "warn", "error"].includes(config.logLevel)) {
    throw new Error("--log-level must be debug, info, warn or error");
  }
  positive(config.heartbeatIntervalMs, "heartbeat-interval");
  positive(config.electionTimeoutMs, "election-timeout");
  if (config.electionTimeoutMs < 5 * config.heartbeatIntervalMs) {
    throw new Error("--election-timeout should be at least 5 times --heartbeat-interval");
  }
  positive(config.snapshotCount, "snapshot-count");
  positive(config.watchProgressNotifyIntervalMs, "watch-progress-notify-interval");
  positive(config.maxRequestBytes, "max-request-bytes");
  positive(config.maxTxnOps, "max-txn-ops");
  if (config.quotaBackendBytes < 0 || config.quotaBackendBytes > limits.maxQuotaBackendBytes) {
    throw new Error(`--quota-backend-bytes must be between 0 and ${limits.maxQuotaBackendBytes}`);
  }
  if (config.listenClientUrls.length === 0) throw new Error("--listen-client-urls must not be empty");
  for (const url of [...config.listenClientUrls, ...config.listenPeerUrls, ...config.listenMetricsUrls]) {
    parseUrl(url);
  }
  const https = config.listenClientUrls.some((url) => parseUrl(url).protocol === "https:");
  if (https && !config.autoTls && (config.certFile === "" || config.keyFile === "")) {
    throw new Error("https client URLs need --cert-file and --key-file (or --auto-tls)");
  }
  if (config.clientCertAuth && config.trustedCaFile === "") {
    throw new Error("--client-cert-auth needs --trusted-ca-file");
  }
  positive(config.snapshotCatchupEntries, "snapshot-catchup-entries");
  if (!Number.isInteger(config.maxLearners) || config.maxLearners < 0) {
    throw new Error("--max-learners must be a non-negative integer");
  }
  if (!Number.isInteger(config.compactHashCheckMs) || config.compactHashCheckMs < 0) {
    throw new Error("--compact-hash-check-time must not be negative");
  }
  const peerHttps = [...config.listenPeerUrls, ...config.initialAdvertisePeerUrls].some(
    (url) => parseUrl(url).protocol === "https:",
  );
  if (peerHttps && !config.peerAutoTls && (config.peerCertFile === "" || config.peerKeyFile === "")) {
    throw new Error("https peer URLs need --peer-cert-file and --peer-key-file (or --peer-auto-tls)");
  }
  positive(config.selfSignedCertValidity, "self-signed-cert-validity");
  cipherList(config.cipherSuites);
  if (config.peerClientCertAuth && config.peerTrustedCaFile === "") {
    throw new Error("--peer-client-cert-auth needs --peer-trusted-ca-file");
  }
  if (config.tlsMinVersion !== "TLS1.2" && config.tlsMinVersion !== "TLS1.3") {
    throw new Error("--tls-min-version must be TLS1.2 or TLS1.3");
  }
}
