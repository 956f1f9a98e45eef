import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig, type ServerConfig } from "@etcd-ts/server";
import { Command, InvalidArgumentError } from "commander";

const list = (value: string) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const integer = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`--${flag} must be an integer`);
  return n;
};

const boolean = (flag: string) => (value: string | undefined) => {
  if (value === undefined || value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError(`--${flag} must be true or false`);
};

/**
 * parseFlags reads etcd's flags (and their ETCD_* environment variables) into a ServerConfig. Flags win
 * over environment variables, which win over the defaults.
 */
export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv): ServerConfig {
  const defaults = defaultConfig(env.ETCD_NAME ?? "default");
  const program = new Command("etcd-ts")
    .description("etcd-ts: a distributed, reliable key-value store that speaks the etcd v3 API")
    .version("3.6.0", "--version", "print the version and exit")
    .allowExcessArguments(false)
    .option("--name <name>", "human-readable name for this member (default: default)")
    .option("--config-file <path>", "path to a YAML configuration file (etcd's keys); flags override it")
    .option("--data-dir <path>", "path to the data directory (default: <name>.etcd)")
    .option("--wal-dir <path>", "path to a dedicated WAL directory (default: <data-dir>/member/wal)")
    .option("--listen-client-urls <urls>", "URLs to listen on for client traffic", list)
    .option("--advertise-client-urls <urls>", "client URLs to advertise to the rest of the cluster", list)
    .option("--listen-peer-urls <urls>", "URLs to listen on for peer traffic", list)
    .option("--initial-advertise-peer-urls <urls>", "this member's peer URLs to advertise", list)
    .option("--initial-cluster <spec>", "initial cluster configuration for bootstrapping (name=url,...)")
    .option("--initial-cluster-state <state>", "new or existing")
    .option("--initial-cluster-token <token>", "initial cluster token for the etcd cluster during bootstrap")
    .option(
      "--heartbeat-interval <ms>",
      "time (in milliseconds) of a heartbeat interval",
      integer("heartbeat-interval"),
    )
    .option(
      "--election-timeout <ms>",
      "time (in milliseconds) for an election to timeout",
      integer("election-timeout"),
    )
    .option(
      "--snapshot-count <n>",
      "number of committed transactions to trigger a snapshot",
      integer("snapshot-count"),
    )
    .option(
      "--quota-backend-bytes <n>",
      "raise alarms when backend size exceeds the given quota",
      integer("quota-backend-bytes"),
    )
    .option("--max-request-bytes <n>", "maximum client request size in bytes", integer("max-request-bytes"))
    .option(
      "--max-txn-ops <n>",
      "maximum number of operations permitted in a transaction",
      integer("max-txn-ops"),
    )
    .option("--auth-token <spec>", "auth token type: simple or jwt,...")
    .option("--bcrypt-cost <n>", "cost of bcrypt password hashing (4..31)", integer("bcrypt-cost"))
    .option("--auto-compaction-mode <mode>", "periodic or revision")
    .option("--auto-compaction-retention <value>", "auto compaction retention (0 = off)")
    .option("--log-level <level>", "debug, info, warn or error")
    .option(
      "--watch-progress-notify-interval <duration>",
      "duration of periodic watch progress notifications (10m)",
    )
    .option("--cert-file <path>", "path to the client server TLS cert file")
    .option("--key-file <path>", "path to the client server TLS key file")
    .option("--trusted-ca-file <path>", "path to the client server TLS trusted CA cert file")
    .option("--client-cert-auth", "enable client cert authentication")
    .option("--tls-min-version <version>", "minimum TLS version: TLS1.2 or TLS1.3")
    .option(
      "--snapshot-catchup-entries <n>",
      "entries kept behind a snapshot for slow followers (5000)",
      integer("snapshot-catchup-entries"),
    )
    .option(
      "--strict-reconfig-check [bool]",
      "reject reconfiguration requests that would cause quorum loss (true)",
      boolean("strict-reconfig-check"),
    )
    .option("--max-learners <n>", "maximum number of learners in the cluster (1)", integer("max-learners"))
    .option("--peer-cert-file <path>", "path to the peer server TLS cert file")
    .option("--peer-key-file <path>", "path to the peer server TLS key file")
    .option("--peer-trusted-ca-file <path>", "path to the peer server TLS trusted CA file")
    .option("--peer-client-cert-auth", "enable peer client cert authentication")
    .option(
      "--compact-hash-check-time <duration>",
      "how often the leader compares hashes at compaction revisions (1m; 0 = off)",
    )
    .option("--listen-metrics-urls <urls>", "extra URLs serving /metrics and /health", list)
    .option("--ui [bool]", "serve the web dashboard at /ui on the client port (true)", boolean("ui"))
    .option("--ui-dir <path>", "directory of the built dashboard (default: the one installed with etcd-ts)")
    .option(
      "--cors <origins>",
      "comma-separated origins allowed to call the client port from a browser (*)",
      list,
    )
    .option("--client-crl-file <path>", "path to the client certificate revocation list file")
    .option("--peer-crl-file <path>", "path to the peer certificate revocation list file")
    .option("--auto-tls", "client TLS using generated certificates")
    .option("--peer-auto-tls", "peer TLS using generated certificates")
    .option(
      "--self-signed-cert-validity <years>",
      "validity of auto-generated certificates in years (1)",
      integer("self-signed-cert-validity"),
    )
    .option("--peer-cert-allowed-cn <cn>", "allowed CN for inter-peer authentication")
    .option("--cipher-suites <suites>", "comma-separated TLS 1.2 cipher suites (Go names)", list)
    .option(
      "--initial-corrupt-check [bool]",
      "compare data with the peers before serving (true)",
      boolean("initial-corrupt-check"),
    );
  program.exitOverride();
  program.parse([...argv], { from: "user" });
  const flags = program.opts<Record<string, unknown>>();
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const o: Record<string, unknown> = {
    ...readConfigFile(flags.configFile as string | undefined),
    ...defined,
  };

  const envList = (name: string) => (env[name] === undefined ? undefined : list(env[name] ?? ""));
  const envBool = (name: string) => (env[name] === undefined ? undefined : boolean(name)(env[name] ?? ""));
  const envInt = (name: string) => (env[name] === undefined ? undefined : integer(name)(env[name] ?? ""));
  const pick = <T>(flag: unknown, fromEnv: T | undefined, fallback: T): T =>
    flag !== undefined ? (flag as T) : fromEnv !== undefined ? fromEnv : fallback;

  const name = pick(o.name, env.ETCD_NAME, defaults.name);
  const listenClientUrls = pick(
    o.listenClientUrls,
    envList("ETCD_LISTEN_CLIENT_URLS"),
    defaults.listenClientUrls,
  );
  return {
    name,
    dataDir: pick(o.dataDir, env.ETCD_DATA_DIR, `${name}.etcd`),
    walDir: pick(o.walDir, env.ETCD_WAL_DIR, ""),
    listenClientUrls,
    advertiseClientUrls: pick(o.advertiseClientUrls, envList("ETCD_ADVERTISE_CLIENT_URLS"), listenClientUrls),
    listenPeerUrls: pick(o.listenPeerUrls, envList("ETCD_LISTEN_PEER_URLS"), defaults.listenPeerUrls),
    initialAdvertisePeerUrls: pick(
      o.initialAdvertisePeerUrls,
      envList("ETCD_INITIAL_ADVERTISE_PEER_URLS"),
      defaults.initialAdvertisePeerUrls,
    ),
    initialCluster: pick(o.initialCluster, env.ETCD_INITIAL_CLUSTER, defaults.initialCluster),
    initialClusterState: pick(
      o.initialClusterState,
      env.ETCD_INITIAL_CLUSTER_STATE as "new" | "existing" | undefined,
      defaults.initialClusterState,
    ),
    initialClusterToken: pick(
      o.initialClusterToken,
      env.ETCD_INITIAL_CLUSTER_TOKEN,
      defaults.initialClusterToken,
    ),
    heartbeatIntervalMs: pick(
      o.heartbeatInterval,
      envInt("ETCD_HEARTBEAT_INTERVAL"),
      defaults.heartbeatIntervalMs,
    ),
    electionTimeoutMs: pick(o.electionTimeout, envInt("ETCD_ELECTION_TIMEOUT"), defaults.electionTimeoutMs),
    snapshotCount: pick(o.snapshotCount, envInt("ETCD_SNAPSHOT_COUNT"), defaults.snapshotCount),
    quotaBackendBytes: pick(
      o.quotaBackendBytes,
      envInt("ETCD_QUOTA_BACKEND_BYTES"),
      defaults.quotaBackendBytes,
    ),
    maxRequestBytes: pick(o.maxRequestBytes, envInt("ETCD_MAX_REQUEST_BYTES"), defaults.maxRequestBytes),
    maxTxnOps: pick(o.maxTxnOps, envInt("ETCD_MAX_TXN_OPS"), defaults.maxTxnOps),
    authToken: pick(o.authToken, env.ETCD_AUTH_TOKEN, defaults.authToken),
    bcryptCost: pick(o.bcryptCost, envInt("ETCD_BCRYPT_COST"), defaults.bcryptCost),
    autoCompactionMode: pick(
      o.autoCompactionMode,
      env.ETCD_AUTO_COMPACTION_MODE as "periodic" | "revision" | undefined,
      defaults.autoCompactionMode,
    ),
    autoCompactionRetention: pick(
      o.autoCompactionRetention,
      env.ETCD_AUTO_COMPACTION_RETENTION,
      defaults.autoCompactionRetention,
    ),
    logLevel: pick(o.logLevel, env.ETCD_LOG_LEVEL as ServerConfig["logLevel"] | undefined, defaults.logLevel),
    watchProgressNotifyIntervalMs: durationMs(
      "watch-progress-notify-interval",
      pick(o.watchProgressNotifyInterval, env.ETCD_WATCH_PROGRESS_NOTIFY_INTERVAL, undefined),
      defaults.watchProgressNotifyIntervalMs,
    ),
    certFile: pick(o.certFile, env.ETCD_CERT_FILE, defaults.certFile),
    keyFile: pick(o.keyFile, env.ETCD_KEY_FILE, defaults.keyFile),
    trustedCaFile: pick(o.trustedCaFile, env.ETCD_TRUSTED_CA_FILE, defaults.trustedCaFile),
    clientCertAuth: pick(
      o.clientCertAuth,
      env.ETCD_CLIENT_CERT_AUTH === undefined ? undefined : env.ETCD_CLIENT_CERT_AUTH === "true",
      defaults.clientCertAuth,
    ),
    tlsMinVersion: pick(
      o.tlsMinVersion,
      env.ETCD_TLS_MIN_VERSION as ServerConfig["tlsMinVersion"] | undefined,
      defaults.tlsMinVersion,
    ),
    snapshotCatchupEntries: pick(
      o.snapshotCatchupEntries,
      envInt("ETCD_SNAPSHOT_CATCHUP_ENTRIES"),
      defaults.snapshotCatchupEntries,
    ),
    strictReconfigCheck: pick(
      o.strictReconfigCheck,
      envBool("ETCD_STRICT_RECONFIG_CHECK"),
      defaults.strictReconfigCheck,
    ),
    maxLearners: pick(o.maxLearners, envInt("ETCD_MAX_LEARNERS"), defaults.maxLearners),
    peerCertFile: pick(o.peerCertFile, env.ETCD_PEER_CERT_FILE, defaults.peerCertFile),
    peerKeyFile: pick(o.peerKeyFile, env.ETCD_PEER_KEY_FILE, defaults.peerKeyFile),
    peerTrustedCaFile: pick(o.peerTrustedCaFile, env.ETCD_PEER_TRUSTED_CA_FILE, defaults.peerTrustedCaFile),
    peerClientCertAuth: pick(
      o.peerClientCertAuth,
      envBool("ETCD_PEER_CLIENT_CERT_AUTH"),
      defaults.peerClientCertAuth,
    ),
    compactHashCheckMs: durationMs(
      "compact-hash-check-time",
      pick(o.compactHashCheckTime, env.ETCD_COMPACT_HASH_CHECK_TIME, undefined),
      defaults.compactHashCheckMs,
      true,
    ),
    listenMetricsUrls: pick(
      o.listenMetricsUrls,
      envList("ETCD_LISTEN_METRICS_URLS"),
      defaults.listenMetricsUrls,
    ),
    clientCrlFile: pick(o.clientCrlFile, env.ETCD_CLIENT_CRL_FILE, defaults.clientCrlFile),
    peerCrlFile: pick(o.peerCrlFile, env.ETCD_PEER_CRL_FILE, defaults.peerCrlFile),
    autoTls: pick(o.autoTls, envBool("ETCD_AUTO_TLS"), defaults.autoTls),
    peerAutoTls: pick(o.peerAutoTls, envBool("ETCD_PEER_AUTO_TLS"), defaults.peerAutoTls),
    selfSignedCertValidity: pick(
      o.selfSignedCertValidity,
      envInt("ETCD_SELF_SIGNED_CERT_VALIDITY"),
      defaults.selfSignedCertValidity,
    ),
    peerCertAllowedCn: pick(o.peerCertAllowedCn, env.ETCD_PEER_CERT_ALLOWED_CN, defaults.peerCertAllowedCn),
    cipherSuites: pick(o.cipherSuites, envList("ETCD_CIPHER_SUITES"), defaults.cipherSuites),
    corsOrigins: pick(o.cors, envList("ETCD_CORS"), defaults.corsOrigins),
    uiDir: pick(o.ui, envBool("ETCD_TS_UI"), true) ? pick(o.uiDir, env.ETCD_TS_UI_DIR, defaultUiDir()) : "",
    initialCorruptCheck: pick(
      o.initialCorruptCheck,
      envBool("ETCD_INITIAL_CORRUPT_CHECK"),
      defaults.initialCorruptCheck,
    ),
  };
}

/** defaultUiDir is the dashboard bundle next to this app in the workspace (apps/dashboard/dist), if built. */
function defaultUiDir(): string {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dashboard/dist");
  return fs.existsSync(path.join(dir, "index.html")) ? dir : "";
}

/** Keys of etcd's YAML config file that we read, mapped to our option names. */
const configKeys: Record<string, { option: string; kind: "string" | "int" | "list" | "bool" }> = {
  name: { option: "name", kind: "string" },
  "data-dir": { option: "dataDir", kind: "string" },
  "wal-dir": { option: "walDir", kind: "string" },
  "listen-client-urls": { option: "listenClientUrls", kind: "list" },
  "advertise-client-urls": { option: "advertiseClientUrls", kind: "list" },
  "listen-peer-urls": { option: "listenPeerUrls", kind: "list" },
  "initial-advertise-peer-urls": { option: "initialAdvertisePeerUrls", kind: "list" },
  "initial-cluster": { option: "initialCluster", kind: "string" },
  "initial-cluster-state": { option: "initialClusterState", kind: "string" },
  "initial-cluster-token": { option: "initialClusterToken", kind: "string" },
  "heartbeat-interval": { option: "heartbeatInterval", kind: "int" },
  "election-timeout": { option: "electionTimeout", kind: "int" },
  "snapshot-count": { option: "snapshotCount", kind: "int" },
  "quota-backend-bytes": { option: "quotaBackendBytes", kind: "int" },
  "max-request-bytes": { option: "maxRequestBytes", kind: "int" },
  "max-txn-ops": { option: "maxTxnOps", kind: "int" },
  "auth-token": { option: "authToken", kind: "string" },
  "bcrypt-cost": { option: "bcryptCost", kind: "int" },
  "auto-compaction-mode": { option: "autoCompactionMode", kind: "string" },
  "auto-compaction-retention": { option: "autoCompactionRetention", kind: "string" },
  "log-level": { option: "logLevel", kind: "string" },
  "watch-progress-notify-interval": { option: "watchProgressNotifyInterval", kind: "string" },
  "cert-file": { option: "certFile", kind: "string" },
  "key-file": { option: "keyFile", kind: "string" },
  "trusted-ca-file": { option: "trustedCaFile", kind: "string" },
  "tls-min-version": { option: "tlsMinVersion", kind: "string" },
  "snapshot-catchup-entries": { option: "snapshotCatchupEntries", kind: "int" },
  "strict-reconfig-check": { option: "strictReconfigCheck", kind: "bool" },
  "max-learners": { option: "maxLearners", kind: "int" },
  "compact-hash-check-time": { option: "compactHashCheckTime", kind: "string" },
  "initial-corrupt-check": { option: "initialCorruptCheck", kind: "bool" },
  "listen-metrics-urls": { option: "listenMetricsUrls", kind: "list" },
  "client-crl-file": { option: "clientCrlFile", kind: "string" },
  "peer-crl-file": { option: "peerCrlFile", kind: "string" },
  "auto-tls": { option: "autoTls", kind: "bool" },
  "peer-auto-tls": { option: "peerAutoTls", kind: "bool" },
  "self-signed-cert-validity": { option: "selfSignedCertValidity", kind: "int" },
  "peer-cert-allowed-cn": { option: "peerCertAllowedCn", kind: "string" },
  "cipher-suites": { option: "cipherSuites", kind: "list" },
  ui: { option: "ui", kind: "bool" },
  "ui-dir": { option: "uiDir", kind: "string" },
  cors: { option: "cors", kind: "list" },
  "client-cert-auth": { option: "clientCertAuth", kind: "bool" },
  "peer-cert-file": { option: "peerCertFile", kind: "string" },
  "peer-key-file": { option: "peerKeyFile", kind: "string" },
  "peer-trusted-ca-file": { option: "peerTrustedCaFile", kind: "string" },
  "peer-client-cert-auth": { option: "peerClientCertAuth", kind: "bool" },
};

/**
 * readConfigFile reads etcd's YAML configuration file (kebab-case keys, as etcd.conf.yml) into option
 * values. Unknown keys are an error, so a typo does not silently fall back to a default.
 */
function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  // The YAML parser loads only for a config file, not on every member start.
  const YAML = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  const parsed: unknown = YAML.parse(fs.readFileSync(file, "utf8"));
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${file}: not a YAML mapping`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const spec = configKeys[key];
    if (spec === undefined) throw new Error(`${file}: unknown configuration key "${key}"`);
    if (value === null || value === undefined) continue;
    switch (spec.kind) {
      case "string":
        out[spec.option] = String(value);
        break;
      case "int":
        if (!Number.isInteger(Number(value))) throw new Error(`${file}: "${key}" must be an integer`);
        out[spec.option] = Number(value);
        break;
      case "bool":
        if (typeof value !== "boolean") throw new Error(`${file}: "${key}" must be true or false`);
        out[spec.option] = value;
        break;
      case "list":
        out[spec.option] = Array.isArray(value) ? value.map(String) : list(String(value));
        break;
    }
  }
  return out;
}

/** durationMs reads a Go-style duration ("10m", "1h30m", "500ms", "2s") into milliseconds. */
function durationMs(flag: string, value: unknown, fallback: number, zeroAllowed = false): number {
  if (value === undefined) return fallback;
  const text = String(value);
  if (zeroAllowed && (text === "0" || text === "0s")) return 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (match === null)
      throw new InvalidArgumentError(`--${flag}: "${text}" is not a duration like 10m or 500ms`);
    total += Number(match[1]) * (units[match[2] as string] as number);
    rest = rest.slice(match[0].length);
  }
  if (total <= 0) throw new InvalidArgumentError(`--${flag} must be positive`);
  return Math.round(total);
}
