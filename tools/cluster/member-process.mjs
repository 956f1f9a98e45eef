// One member process of a local cluster (real etcd or etcd-ts): how it is started with etcd's flags, how we
// know it is ready, and how it is ended — always through its own PID, never by name.

import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The built etcd-ts binary of this repository. */
export const ETCD_TS_MAIN = resolve(here, "..", "..", "apps", "server", "dist", "main.js");

/** How long a member may take to become ready before start() gives up. */
export const READY_TIMEOUT_MS = 30_000;
/** How long a member may take to exit after SIGTERM/SIGINT before stop() sends SIGKILL. */
export const STOP_TIMEOUT_MS = 10_000;
/** Pause between readiness polls. */
const POLL_INTERVAL_MS = 100;
/** Each readiness request gives up after this long. */
const REQUEST_TIMEOUT_MS = 1_000;

/**
 * Which server a member runs: Debian's etcd 3.4 ("etcd") or this repository's etcd-ts ("etcd-ts").
 * @typedef {"etcd" | "etcd-ts"} Kind
 */

/**
 * What "ready" means when waiting for a member: "health" is etcd's GET /health answering 200 (the cluster has a
 * leader and the member serves a read), "up" is any HTTP answer on the client port (GET /version), which is
 * what a learner or an unhealthy member can give.
 * @typedef {"health" | "up"} Readiness
 */

/**
 * MemberConfig is everything needed to start (and restart) one member.
 * @typedef {object} MemberConfig
 * @property {Kind} kind
 * @property {string} name
 * @property {string} dataDir
 * @property {string} logPath           stdout and stderr of the process go here (appended)
 * @property {number} clientPort        listened on and advertised on 127.0.0.1
 * @property {number} peerPort          the port the member listens on for peers
 * @property {string} peerUrl           the peer URL advertised (a proxy's URL when peers go through a proxy)
 * @property {string} initialCluster    "name=peerUrl,..."
 * @property {"new" | "existing"} initialClusterState
 * @property {string} token             --initial-cluster-token
 * @property {string} logLevel          debug, info, warn or error
 * @property {string[]} extraArgs       appended to the generated flags (a flag repeated here wins in both)
 * @property {boolean} detached         own process group, not ended with the starter (the CLI's background mode)
 * @property {string} etcdBin           path of etcd (kind "etcd")
 * @property {string} etcdTsMain        path of etcd-ts's main.js (kind "etcd-ts")
 * @property {string} [nodeBin]         node binary for etcd-ts (default: this process's)
 */

/**
 * commandOf returns the executable and arguments that start a member.
 * @param {MemberConfig} c
 * @returns {{command: string, args: string[]}}
 */
export function commandOf(c) {
  const clientUrl = `http://127.0.0.1:${c.clientPort}`;
  const flags = [
    "--name",
    c.name,
    "--data-dir",
    c.dataDir,
    "--listen-client-urls",
    clientUrl,
    "--advertise-client-urls",
    clientUrl,
    "--listen-peer-urls",
    `http://127.0.0.1:${c.peerPort}`,
    "--initial-advertise-peer-urls",
    c.peerUrl,
    "--initial-cluster",
    c.initialCluster,
    "--initial-cluster-state",
    c.initialClusterState,
    "--initial-cluster-token",
    c.token,
  ];
  if (c.kind === "etcd") {
    // etcd 3.4 logs with capnslog by default and only honours --log-level with the zap logger.
    return {
      command: c.etcdBin,
      args: [...flags, "--logger", "zap", "--log-level", c.logLevel, ...c.extraArgs],
    };
  }
  return {
    command: c.nodeBin ?? process.execPath,
    args: [c.etcdTsMain, ...flags, "--log-level", c.logLevel, ...c.extraArgs],
  };
}

/**
 * memberEnv is our environment without ETCD_* and ETCDCTL_* variables: both servers read ETCD_* as flags, and a
 * stray one from the caller's shell must not change the cluster.
 * @returns {Record<string, string>}
 */
export function memberEnv() {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("ETCD_") && !k.startsWith("ETCDCTL_")) env[k] = v;
  }
  return env;
}

/**
 * Member is one member of a local cluster. The object outlives its process: restart() starts a new process
 * with the same data dir, ports and flags (its PID changes).
 */
export class Member {
  /** @param {MemberConfig} config */
  constructor(config) {
    /** @type {MemberConfig} */
    this.config = config;
    /** @type {import("node:child_process").ChildProcess | undefined} */
    this.child = undefined;
    /** @type {Promise<{code: number | null, signal: string | null}>} */
    this.exited = Promise.resolve({ code: null, signal: null });
    /** @type {import("./tcp-proxy.mjs").TcpProxy | undefined} the proxy in front of the peer port, if any */
    this.proxy = undefined;
  }

  /** name is the member's --name. */
  get name() {
    return this.config.name;
  }

  /** clientUrl is "http://127.0.0.1:<client port>". */
  get clientUrl() {
    return `http://127.0.0.1:${this.config.clientPort}`;
  }

  /** endpoint is "127.0.0.1:<client port>", as etcdctl's --endpoints takes it. */
  get endpoint() {
    return `127.0.0.1:${this.config.clientPort}`;
  }

  /** peerUrl is the advertised peer URL (the proxy's when peers go through one). */
  get peerUrl() {
    return this.config.peerUrl;
  }

  /** listenPeerUrl is the URL the member itself listens on for peers. */
  get listenPeerUrl() {
    return `http://127.0.0.1:${this.config.peerPort}`;
  }

  get dataDir() {
    return this.config.dataDir;
  }

  get logPath() {
    return this.config.logPath;
  }

  /** pid of the current process, or undefined when none was started. */
  get pid() {
    return this.child?.pid;
  }

  /** running tells whether the current process has not exited yet. */
  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * spawn starts the process and returns at once (see waitReady). Throws if one is already running.
   */
  spawn() {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const c = this.config;
    if (c.kind === "etcd-ts" && !existsSync(c.etcdTsMain)) {
      throw new Error(
        `etcd-ts is not built: ${c.etcdTsMain} is missing (run \`pnpm --filter @etcd-ts/server-app... build\`)`,
      );
    }
    mkdirSync(dirname(c.logPath), { recursive: true });
    const { command, args } = commandOf(c);
    const log = openSync(c.logPath, "a");
    const child = spawn(command, args, {
      stdio: ["ignore", log, log],
      env: memberEnv(),
      cwd: dirname(c.logPath),
      detached: c.detached,
    });
    closeSync(log);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", () => resolve({ code: -1, signal: null }));
    });
    if (c.detached) child.unref();
    this.child = child;
    if (child.pid === undefined) throw new Error(`${this.name}: could not start ${command}`);
  }

  /**
   * waitReady polls the member until it is ready, or throws (with the tail of its log) when it exits or the
   * time is up.
   * @param {{readiness?: Readiness, timeoutMs?: number}} [options]
   */
  async waitReady(options = {}) {
    const readiness = options.readiness ?? "health";
    const deadline = Date.now() + (options.timeoutMs ?? READY_TIMEOUT_MS);
    const path = readiness === "health" ? "/health" : "/version";
    for (;;) {
      if (!this.running) {
        throw new Error(`${this.name} exited before it was ready; log ${this.logPath}:\n${this.logTail()}`);
      }
      if (await answers(`${this.clientUrl}${path}`, readiness === "health")) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name} was not ${readiness === "health" ? "healthy" : "up"} within ${options.timeoutMs ?? READY_TIMEOUT_MS} ms; log ${this.logPath}:\n${this.logTail()}`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /**
   * stop sends `signal` (default SIGTERM) to the process and waits until it exited, escalating to SIGKILL
   * after STOP_TIMEOUT_MS. Does nothing if it is not running.
   * @param {NodeJS.Signals} [signal]
   */
  async stop(signal = "SIGTERM") {
    const child = this.child;
    if (child === undefined || !this.running || child.pid === undefined) return;
    try {
      process.kill(child.pid, signal);
    } catch {
      return;
    }
    const timer =
      signal === "SIGKILL"
        ? undefined
        : setTimeout(() => {
            try {
              if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
            } catch {
              // already gone
            }
          }, STOP_TIMEOUT_MS);
    await this.exited;
    if (timer !== undefined) clearTimeout(timer);
  }

  /** kill ends the process with SIGKILL (a crash: nothing is flushed) and waits for it. */
  kill() {
    return this.stop("SIGKILL");
  }

  /**
   * restart stops the process if it runs, starts it again with the same data dir and flags, and waits until
   * it is ready.
   * @param {{readiness?: Readiness, timeoutMs?: number, signal?: NodeJS.Signals}} [options]
   */
  async restart(options = {}) {
    await this.stop(options.signal ?? "SIGTERM");
    this.spawn();
    await this.waitReady(options);
  }

  /** logTail returns the last lines of the member's log. */
  logTail(lines = 30) {
    try {
      return readFileSync(this.logPath, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** toJSON is what the CLI keeps about a member in its state file. */
  toJSON() {
    return {
      name: this.name,
      kind: this.config.kind,
      pid: this.pid,
      clientUrl: this.clientUrl,
      peerUrl: this.peerUrl,
      listenPeerUrl: this.listenPeerUrl,
      dataDir: this.dataDir,
      logPath: this.logPath,
      config: this.config,
    };
  }
}

/**
 * answers tells whether GET url answers 200 (and, for /health, says healthy) within REQUEST_TIMEOUT_MS.
 * @param {string} url
 * @param {boolean} health
 */
async function answers(url, health) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = await res.text();
    if (res.status !== 200) return false;
    return !health || /"health"\s*:\s*"?true/.test(body);
  } catch {
    return false;
  }
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * memberPaths returns the data dir and log path of member `name` under a cluster's base dir.
 * @param {string} baseDir
 * @param {string} name
 */
export function memberPaths(baseDir, name) {
  return { dataDir: join(baseDir, name, "data"), logPath: join(baseDir, name, "member.log") };
}
