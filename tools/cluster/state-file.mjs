// The CLI's record of a cluster it started in the background: DIR/cluster.json with every member's PID and
// data dir, so that `stop` ends exactly those processes (and only if a PID still belongs to that member).

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { STOP_TIMEOUT_MS, sleep } from "./member-process.mjs";

/** Name of the state file inside the cluster dir. */
export const STATE_FILE = "cluster.json";

/**
 * @typedef {object} RecordedMember
 * @property {string} name
 * @property {string} kind
 * @property {number | undefined} pid
 * @property {string} clientUrl
 * @property {string} peerUrl
 * @property {string} listenPeerUrl
 * @property {string} dataDir
 * @property {string} logPath
 * @property {import("./member-process.mjs").MemberConfig} [config]  how to start it again (restart, add)
 */

/**
 * @typedef {object} ClusterState
 * @property {string} kind
 * @property {string} token
 * @property {string} baseDir
 * @property {import("./local-cluster.mjs").PortLayout} [ports]
 * @property {string} [namePrefix]
 * @property {string} [logLevel]
 * @property {string} [etcdBin]
 * @property {string} [etcdctlBin]
 * @property {string} [etcdTsMain]
 * @property {RecordedMember[]} members
 * @property {number} [supervisorPid]  the CLI process of a foreground run
 * @property {string} [startedAt]
 */

/**
 * readState returns the recorded cluster of `dir`, or undefined when there is none.
 * @param {string} dir
 * @returns {ClusterState | undefined}
 */
export function readState(dir) {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8"));
}

/**
 * writeState records the cluster atomically (write, then rename).
 * @param {string} dir
 * @param {ClusterState} state
 */
export function writeState(dir, state) {
  const path = join(dir, STATE_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** @param {string} dir */
export function removeState(dir) {
  rmSync(join(dir, STATE_FILE), { force: true });
}

/**
 * isMemberProcess tells whether `pid` is alive (not a zombie) and is still the member whose data dir is
 * `dataDir`, so that a PID the kernel has reused for another process is never signalled.
 * @param {number} pid
 * @param {string} dataDir
 */
export function isMemberProcess(pid, dataDir) {
  if (!alive(pid)) return false;
  const cmdline = commandLineOf(pid);
  return cmdline?.includes(dataDir) === true;
}

/**
 * alive tells whether a process with this PID exists and is not a zombie.
 * @param {number} pid
 */
export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: it exists but is not ours to signal, so not one of our members either.
    return false;
  }
  if (existsSync("/proc")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // "pid (comm) S ...": the state follows the last ")".
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      return state !== "Z" && state !== "X";
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * commandLineOf returns a process's command line (arguments joined by spaces), or undefined.
 * @param {number} pid
 */
function commandLineOf(pid) {
  try {
    if (existsSync("/proc")) return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    return execFileSync("ps", ["-p", String(pid), "-o", "args="], { encoding: "utf8" });
  } catch {
    return undefined;
  }
}

/**
 * stopRecorded ends one recorded member: SIGTERM, then SIGKILL after STOP_TIMEOUT_MS. Returns what happened.
 * @param {RecordedMember} m
 * @param {{timeoutMs?: number}} [options]
 * @returns {Promise<"stopped" | "killed" | "not running">}
 */
export async function stopRecorded(m, options = {}) {
  const pid = m.pid;
  if (pid === undefined || !isMemberProcess(pid, m.dataDir)) return "not running";
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return "not running";
  }
  const deadline = Date.now() + (options.timeoutMs ?? STOP_TIMEOUT_MS);
  while (Date.now() < deadline) {
    if (!alive(pid)) return "stopped";
    await sleep(50);
  }
  if (isMemberProcess(pid, m.dataDir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return "stopped";
    }
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    return "killed";
  }
  return "stopped";
}
