// Starting and stopping one etcd-compatible server process (real etcd or etcd-ts) on loopback for the
// compatibility run. Each server gets free ports, its own data dir and log file under the run's temp dir,
// and is ended only through its own PID.

import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@etcd-ts/test-support";

/** How long a server may take to answer /health before the run gives up. */
const READY_TIMEOUT_MS = 30_000;
/** How long a server may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** Pause between /health polls. */
const POLL_INTERVAL_MS = 100;

/**
 * @typedef {object} ServerSpec
 * @property {string} label         short name used in reports ("etcd", "etcd-ts")
 * @property {string} command       executable
 * @property {string[]} prefixArgs  arguments before the etcd flags (e.g. the script for node)
 * @property {(o: {name: string, dataDir: string, clientUrl: string, peerUrl: string}) => string[]} flags
 */

/**
 * @typedef {object} RunningServer
 * @property {string} label
 * @property {number} pid
 * @property {string} endpoint     "127.0.0.1:<client port>", as etcdctl's --endpoints takes it
 * @property {number} clientPort
 * @property {number} peerPort
 * @property {string} dir          this server's scratch dir (data dir, log, snapshot files)
 * @property {string} logPath
 * @property {import("node:child_process").ChildProcess} child
 * @property {Promise<{code: number | null, signal: string | null}>} exited
 */

/** freePort is a loopback port reserved machine-wide for this run (see @etcd-ts/test-support). */
export { freePort };

/**
 * startServer spawns the server with its own data dir and ports and waits until /health answers 200.
 * @param {ServerSpec} spec
 * @param {string} runDir parent temp dir of the run
 * @returns {Promise<RunningServer>}
 */
export async function startServer(spec, runDir) {
  const dir = join(runDir, spec.label);
  mkdirSync(dir, { recursive: true });
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const dataDir = join(dir, "data");
  const logPath = join(dir, "server.log");
  const logFd = openSync(logPath, "a");
  const args = [...spec.prefixArgs, ...spec.flags({ name: "compat", dataDir, clientUrl, peerUrl })];
  const child = spawn(spec.command, args, { stdio: ["ignore", logFd, logFd], cwd: dir });
  closeSync(logFd);
  /** @type {Promise<{code: number | null, signal: string | null}>} */
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
    child.on("error", () => resolve({ code: -1, signal: null }));
  });
  if (child.pid === undefined) throw new Error(`${spec.label}: could not start ${spec.command}`);
  /** @type {RunningServer} */
  const server = {
    label: spec.label,
    pid: child.pid,
    endpoint: `127.0.0.1:${clientPort}`,
    clientPort,
    peerPort,
    dir,
    logPath,
    child,
    exited,
  };
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitedEarly) {
      throw new Error(`${spec.label} exited before it was ready; log ${logPath}:\n${tail(logPath)}`);
    }
    if (await healthy(`${clientUrl}/health`)) return server;
    if (Date.now() > deadline) {
      await stopServer(server);
      throw new Error(
        `${spec.label} did not answer ${clientUrl}/health within ${READY_TIMEOUT_MS} ms; log ${logPath}:\n${tail(logPath)}`,
      );
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/**
 * stopServer ends the server by its PID: SIGTERM, then SIGKILL if it has not exited in time.
 * @param {RunningServer} server
 */
export async function stopServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  try {
    process.kill(server.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(server.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, STOP_TIMEOUT_MS);
  await server.exited;
  clearTimeout(timer);
}

/**
 * healthy reports whether GET url answers 200 within a second.
 * @param {string} url
 */
async function healthy(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** @param {string} path */
function tail(path) {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-30).join("\n");
  } catch {
    return "(no log)";
  }
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
