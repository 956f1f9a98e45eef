#!/usr/bin/env node
// etcd-ts-cluster: start, stop and inspect a local cluster on loopback with one command, like etcd's Procfile
// (infra1..3; clients on 2379/22379/32379, peers on 2380/22380/32380).
//
//   node tools/cluster/cluster.mjs start  [--size 3] [--kind etcd-ts|etcd] [--dir DIR] [--foreground]
//                                         [--ports procfile|free|BASE] [--token T] [--log-level L]
//                                         [--etcd PATH] [--server PATH/main.js] [-- EXTRA MEMBER FLAGS...]
//   node tools/cluster/cluster.mjs stop   [--dir DIR]
//   node tools/cluster/cluster.mjs status [--dir DIR] [--json]
//   node tools/cluster/cluster.mjs clean  [--dir DIR]
//
// `start` runs the members in the background, records their PIDs in DIR/cluster.json and returns once all are
// healthy; `stop` ends exactly those PIDs. With --foreground it stays attached and Ctrl-C stops the cluster.
// A second `start` on the same DIR restarts the same members from their data dirs.

import { existsSync, mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { etcdctl } from "./etcdctl.mjs";
import { Cluster, gatewayStatus, startCluster } from "./local-cluster.mjs";
import { Member, sleep } from "./member-process.mjs";
import { alive, isMemberProcess, readState, stopRecorded, writeState } from "./state-file.mjs";

/** The cluster dir when --dir is not given (relative to the working directory). */
const DEFAULT_DIR = "local-cluster";

const USAGE = `usage:
  etcd-ts-cluster start  [--size 3] [--kind etcd-ts|etcd] [--dir DIR] [--foreground]
                         [--ports procfile|free|BASE] [--token T] [--log-level L]
                         [--etcd PATH] [--server PATH/main.js] [-- EXTRA MEMBER FLAGS...]
  etcd-ts-cluster stop   [--dir DIR]
  etcd-ts-cluster status [--dir DIR] [--json]
  etcd-ts-cluster add    [--dir DIR] [--name NAME] [--learner]   member add, then start it (state existing)
  etcd-ts-cluster remove NAME [--dir DIR]                         member remove, then end its process
  etcd-ts-cluster kill   NAME [--dir DIR] [--signal SIGKILL]      end one member's process (a crash by default)
  etcd-ts-cluster restart NAME [--dir DIR]                        start it again from its data dir
  etcd-ts-cluster clean  [--dir DIR]      remove DIR (data dirs and logs) when no member runs
defaults: --size 3, --kind etcd-ts, --dir ./${DEFAULT_DIR}, --ports procfile (2379/2380, 22379/22380, ...)
`;

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`etcd-ts-cluster: ${message}\n`);
  process.exit(1);
}

function parse() {
  const argv = process.argv.slice(2);
  const dashes = argv.indexOf("--");
  const own = dashes < 0 ? argv : argv.slice(0, dashes);
  const extraArgs = dashes < 0 ? [] : argv.slice(dashes + 1);
  try {
    const { values, positionals } = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        size: { type: "string", default: "3" },
        kind: { type: "string", default: "etcd-ts" },
        dir: { type: "string", default: DEFAULT_DIR },
        foreground: { type: "boolean", short: "f", default: false },
        ports: { type: "string", default: "procfile" },
        token: { type: "string", default: "etcd-cluster-1" },
        "log-level": { type: "string", default: "info" },
        etcd: { type: "string", default: "etcd" },
        server: { type: "string" },
        json: { type: "boolean", default: false },
        name: { type: "string" },
        learner: { type: "boolean", default: false },
        signal: { type: "string", default: "SIGKILL" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    return { values, command: positionals[0], rest: positionals.slice(1), extraArgs };
  } catch (err) {
    return fail(`${/** @type {Error} */ (err).message}\n${USAGE}`);
  }
}

async function main() {
  const { values, command, rest, extraArgs } = parse();
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    process.exit(command === undefined && !values.help ? 1 : 0);
  }
  const takesName = command === "remove" || command === "kill" || command === "restart";
  if (rest.length > (takesName ? 1 : 0)) fail(`unexpected arguments: ${rest.join(" ")}\n${USAGE}`);
  if (takesName && rest[0] === undefined) fail(`${command} needs a member name\n${USAGE}`);
  const name = rest[0] ?? "";
  const dir = resolve(values.dir);
  switch (command) {
    case "add":
      return add(dir, values.name, values.learner);
    case "remove":
      return remove(dir, name);
    case "kill":
      return kill(dir, name, values.signal);
    case "restart":
      return restart(dir, name);
    case "start":
      return start(dir, values, extraArgs);
    case "stop":
      return stop(dir);
    case "status":
      return status(dir, values.json);
    case "clean":
      return clean(dir);
    default:
      fail(`unknown command ${command}\n${USAGE}`);
  }
}

/**
 * start boots the cluster (or restarts it from the data dirs in DIR).
 * @param {string} dir
 * @param {ReturnType<typeof parse>["values"]} v
 * @param {string[]} extraArgs
 */
async function start(dir, v, extraArgs) {
  const size = Number(v.size);
  if (!Number.isInteger(size) || size < 1) fail(`--size must be a positive integer, got ${v.size}`);
  if (v.kind !== "etcd" && v.kind !== "etcd-ts") fail(`--kind must be etcd or etcd-ts, got ${v.kind}`);
  const ports = v.ports === "procfile" || v.ports === "free" ? v.ports : Number(v.ports);
  if (typeof ports === "number" && !(Number.isInteger(ports) && ports > 0 && ports < 65535))
    fail(`--ports must be procfile, free or a base port, got ${v.ports}`);
  const previous = readState(dir);
  const stillRunning = (previous?.members ?? []).filter(
    (m) => m.pid !== undefined && isMemberProcess(m.pid, m.dataDir),
  );
  if (stillRunning.length > 0) {
    fail(
      `a cluster is already running from ${dir} (${stillRunning.map((m) => `${m.name} pid ${m.pid}`).join(", ")}); run \`stop --dir ${dir}\` first`,
    );
  }
  mkdirSync(dir, { recursive: true });
  process.stdout.write(`starting ${size} ${v.kind} members in ${dir} ...\n`);
  /** @type {import("./local-cluster.mjs").Cluster | undefined} */
  let starting;
  // Ctrl-C while the members come up: stop what was spawned (their PIDs are recorded already).
  const interrupted = () => {
    process.stdout.write("\ninterrupted: stopping the members started so far ...\n");
    void (starting?.stop("SIGKILL") ?? Promise.resolve()).then(() => process.exit(130));
  };
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", interrupted);
  let cluster;
  try {
    cluster = await startCluster({
      kind: v.kind,
      size,
      baseDir: dir,
      token: v.token,
      ports,
      logLevel: v["log-level"],
      extraArgs,
      detached: true,
      etcdBin: v.etcd,
      etcdTsMain: v.server === undefined ? undefined : resolve(v.server),
      onSpawn: (c) => {
        starting = c;
        writeState(dir, { ...c.toJSON(), startedAt: new Date().toISOString() });
      },
    });
  } catch (err) {
    fail(/** @type {Error} */ (err).message);
  }
  process.off("SIGINT", interrupted);
  process.off("SIGTERM", interrupted);
  const state = {
    ...cluster.toJSON(),
    startedAt: new Date().toISOString(),
    ...(v.foreground ? { supervisorPid: process.pid } : {}),
  };
  writeState(dir, state);
  for (const m of cluster.members) {
    process.stdout.write(
      `${m.name}  pid ${m.pid}  client ${m.clientUrl}  peer ${m.peerUrl}  log ${m.logPath}\n`,
    );
  }
  const endpoints = cluster.members.map((m) => m.clientUrl).join(",");
  process.stdout.write(`cluster is healthy.\n  export ETCDCTL_API=3 ETCDCTL_ENDPOINTS=${endpoints}\n`);
  if (!v.foreground) {
    process.stdout.write(`stop it with: node ${process.argv[1]} stop --dir ${dir}\n`);
    // The members are detached and unref'd: this process exits and they keep running.
    return;
  }
  process.stdout.write("running in the foreground; Ctrl-C stops the cluster.\n");
  let stopping = false;
  const shutdown = async (/** @type {string} */ why) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${why}: stopping the members ...\n`);
    await cluster.stop();
    // Members added (or restarted) from another terminal are only in the record: end those too.
    const recorded = readState(dir) ?? { ...cluster.toJSON(), members: [] };
    await Promise.all(recorded.members.map((m) => stopRecorded(m)));
    writeState(dir, { ...recorded, members: recorded.members.map((m) => ({ ...m, pid: undefined })) });
    process.stdout.write("stopped.\n");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
  for (const m of cluster.members) {
    void m.exited.then(({ code, signal }) => {
      if (stopping) return;
      process.stdout.write(`${m.name} (pid ${m.pid}) exited: code ${code}, signal ${signal}\n`);
      if (cluster.running().length === 0) void shutdown("all members exited");
    });
  }
  // Keep the event loop alive (the children are unref'd) until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

/**
 * stop ends the recorded members by PID.
 * @param {string} dir
 */
async function stop(dir) {
  const state = readState(dir);
  if (state === undefined) fail(`no cluster recorded in ${dir}`);
  const outcomes = await Promise.all(state.members.map((m) => stopRecorded(m)));
  state.members.forEach((m, i) => {
    process.stdout.write(`${m.name} (pid ${m.pid}): ${outcomes[i]}\n`);
  });
  // The record stays (status shows the members as stopped; `start` reuses the dir), without PIDs.
  writeState(dir, { ...state, members: state.members.map((m) => ({ ...m, pid: undefined })) });
}

/**
 * status prints each recorded member's process state, health and raft view.
 * @param {string} dir
 * @param {boolean} json
 */
async function status(dir, json) {
  const state = readState(dir);
  if (state === undefined) fail(`no cluster recorded in ${dir}`);
  const rows = await Promise.all(
    state.members.map(async (m) => {
      const running = m.pid !== undefined && isMemberProcess(m.pid, m.dataDir);
      const s = running ? await gatewayStatus(m.clientUrl) : {};
      const health = running ? await healthOf(m.clientUrl) : "-";
      return {
        name: m.name,
        pid: m.pid,
        state: running ? "running" : "stopped",
        health,
        leader: s.memberId !== undefined && s.memberId === s.leaderId,
        learner: s.isLearner ?? false,
        raftTerm: s.raftTerm,
        memberId: s.memberId === undefined ? undefined : BigInt(s.memberId).toString(16),
        clientUrl: m.clientUrl,
        peerUrl: m.peerUrl,
        error: s.error,
      };
    }),
  );
  if (json) {
    process.stdout.write(`${JSON.stringify({ kind: state.kind, dir, members: rows }, null, 2)}\n`);
  } else {
    const table = [
      ["NAME", "PID", "STATE", "HEALTH", "LEADER", "LEARNER", "TERM", "ID", "CLIENT", "PEER"],
      ...rows.map((r) => [
        r.name,
        String(r.pid ?? "-"),
        r.state,
        r.health,
        r.leader ? "*" : "",
        r.learner ? "yes" : "",
        String(r.raftTerm ?? "-"),
        r.memberId ?? "-",
        r.clientUrl,
        r.peerUrl,
      ]),
    ];
    const widths = table[0]?.map((_, k) => Math.max(...table.map((row) => (row[k] ?? "").length))) ?? [];
    for (const row of table) {
      process.stdout.write(
        `${row.map((c, k) => c.padEnd(widths[k] ?? 0)).join("  ")}\n`.replace(/ +\n$/, "\n"),
      );
    }
  }
  process.exitCode = rows.every((r) => r.state === "running" && r.health === "true") ? 0 : 3;
}

/**
 * healthOf returns "true"/"false" from GET /health, or "unreachable".
 * @param {string} clientUrl
 */
async function healthOf(clientUrl) {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2_000) });
    const body = await res.text();
    return res.status === 200 && /"health"\s*:\s*"?true/.test(body) ? "true" : "false";
  } catch {
    return "unreachable";
  }
}

/**
 * recordedCluster reads DIR's record, or fails.
 * @param {string} dir
 */
function recordedCluster(dir) {
  const state = readState(dir);
  if (state === undefined) return fail(`no cluster recorded in ${dir}`);
  return state;
}

/**
 * runningEndpoints returns the client URLs of the recorded members whose process runs, or fails.
 * @param {import("./state-file.mjs").ClusterState} state
 * @param {string} [except] a member to leave out
 */
function runningEndpoints(state, except) {
  const urls = state.members
    .filter((m) => m.name !== except && m.pid !== undefined && isMemberProcess(m.pid, m.dataDir))
    .map((m) => m.clientUrl);
  if (urls.length === 0) fail("no member of the cluster runs");
  return urls.join(",");
}

/**
 * recordedMember finds a member of the record, or fails.
 * @param {import("./state-file.mjs").ClusterState} state
 * @param {string} name
 */
function recordedMember(state, name) {
  const m = state.members.find((x) => x.name === name);
  if (m === undefined)
    return fail(`no member ${name} recorded (members: ${state.members.map((x) => x.name)})`);
  return m;
}

/**
 * add adds a member to a recorded cluster the operator's way: `etcdctl member add` against the running
 * members, then the new process with --initial-cluster-state existing, in the background; and records it.
 * @param {string} dir
 * @param {string | undefined} name
 * @param {boolean} learner
 */
async function add(dir, name, learner) {
  const state = recordedCluster(dir);
  const configs = state.members.map((m) => m.config);
  const first = configs[0];
  if (first === undefined || configs.some((c) => c === undefined)) {
    fail(
      "the record has no member configurations (started by an older etcd-ts-cluster); restart the cluster",
    );
  }
  const endpoints = runningEndpoints(state);
  const cluster = new Cluster({
    kind: first.kind,
    token: state.token,
    namePrefix: state.namePrefix ?? "infra",
    logLevel: first.logLevel,
    etcdBin: first.etcdBin,
    etcdctlBin: state.etcdctlBin ?? "etcdctl",
    etcdTsMain: first.etcdTsMain,
    detached: true,
    peerProxies: false,
    baseDir: dir,
    ports: state.ports ?? "free",
    extraArgs: () => first.extraArgs,
    ownsBaseDir: false,
  });
  for (const c of configs) if (c !== undefined) cluster.adopt(c);
  try {
    const { member, output } = await cluster.addMember({ name, learner, endpoints, readiness: "up" });
    writeState(dir, { ...state, members: [...state.members, member.toJSON()] });
    process.stdout.write(output);
    process.stdout.write(
      `${member.name}  pid ${member.pid}  client ${member.clientUrl}  peer ${member.peerUrl}  log ${member.logPath}\n`,
    );
  } catch (err) {
    fail(/** @type {Error} */ (err).message);
  }
}

/**
 * remove runs `etcdctl member remove` for a recorded member, ends its process and drops it from the record.
 * @param {string} dir
 * @param {string} name
 */
async function remove(dir, name) {
  const state = recordedCluster(dir);
  const m = recordedMember(state, name);
  const endpoints = runningEndpoints(state, name);
  const bin = state.etcdctlBin ?? "etcdctl";
  const list = await etcdctl(["member", "list"], { endpoints, bin });
  // By name, or by peer URL for a member that never started (its name is empty until it publishes it).
  const line = list.stdout
    .split("\n")
    .find((l) => l.includes(`, ${name}, `) || l.split(", ")[3] === m.peerUrl);
  const id = line?.split(",")[0];
  if (id === undefined) fail(`${name} is not in member list:\n${list.stdout}${list.stderr}`);
  const res = await etcdctl(["member", "remove", id], { endpoints, bin });
  process.stdout.write(res.stdout);
  if (res.code !== 0) fail(`member remove failed:\n${res.stderr}`);
  process.stdout.write(`${name} (pid ${m.pid}): ${await stopRecorded(m)}\n`);
  writeState(dir, { ...state, members: state.members.filter((x) => x !== m) });
}

/**
 * kill signals one recorded member's process (SIGKILL by default: a crash) and waits until it is gone.
 * @param {string} dir
 * @param {string} name
 * @param {string} signal
 */
async function kill(dir, name, signal) {
  const state = recordedCluster(dir);
  const m = recordedMember(state, name);
  if (!/^SIG[A-Z0-9]+$/.test(signal)) fail(`not a signal name: ${signal}`);
  const sig = /** @type {NodeJS.Signals} */ (signal);
  let outcome = "not running";
  if (m.pid !== undefined && isMemberProcess(m.pid, m.dataDir)) {
    if (sig === "SIGTERM") {
      outcome = await stopRecorded(m);
    } else {
      process.kill(m.pid, sig);
      for (let i = 0; i < 200 && alive(m.pid); i++) await sleep(50);
      outcome = alive(m.pid) ? `sent ${sig}, still running` : `ended by ${sig}`;
    }
  }
  process.stdout.write(`${name} (pid ${m.pid}): ${outcome}\n`);
  if (m.pid === undefined || !alive(m.pid)) {
    writeState(dir, {
      ...state,
      members: state.members.map((x) => (x === m ? { ...x, pid: undefined } : x)),
    });
  }
}

/**
 * restart starts a recorded member again from its data dir with the flags it was first started with (ending
 * it first if it runs), in the background, and records the new PID.
 * @param {string} dir
 * @param {string} name
 */
async function restart(dir, name) {
  const state = recordedCluster(dir);
  const m = recordedMember(state, name);
  if (m.config === undefined)
    fail(`${name} has no recorded configuration (started by an older etcd-ts-cluster)`);
  if (m.pid !== undefined) await stopRecorded(m);
  const member = new Member({ ...m.config, detached: true });
  try {
    member.spawn();
    writeState(dir, {
      ...state,
      members: state.members.map((x) => (x === m ? { ...x, pid: member.pid } : x)),
    });
    await member.waitReady({ readiness: "up" });
  } catch (err) {
    fail(/** @type {Error} */ (err).message);
  }
  process.stdout.write(`${name}  pid ${member.pid}  client ${member.clientUrl}  log ${member.logPath}\n`);
}

/**
 * clean removes the cluster dir when none of its members runs.
 * @param {string} dir
 */
function clean(dir) {
  if (!existsSync(dir)) return;
  const state = readState(dir);
  const running = (state?.members ?? []).filter(
    (m) => m.pid !== undefined && isMemberProcess(m.pid, m.dataDir),
  );
  if (running.length > 0) fail(`members still run (${running.map((m) => m.name).join(", ")}); stop first`);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`removed ${dir}\n`);
}

await main();
