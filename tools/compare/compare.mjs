#!/usr/bin/env node
// tools/compare: start real etcd (Debian's etcd-server) and etcd-ts with the same settings, run the same
// etcd-ts-bench workloads against each (alternating, several rounds), load many keys to compare RSS and
// restart time, optionally profile etcd-ts, and write the results as Markdown (docs/benchmarks.md).
//
//   node tools/compare/compare.mjs                      # full run (several minutes), writes docs/benchmarks.md
//   node tools/compare/compare.mjs --quick --out /tmp/b.md   # 1 member, tiny totals (the test uses this)
//   options: --rounds N  --keys N  --sizes 1,3  --out FILE  --json FILE  --[no-]profile  --profile-workload ID@SIZE,...
//            --notes FILE  --from-json FILE (re-render a saved --json run, e.g. with --notes)
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startCluster } from "@etcd-ts/cluster";
import { formatSummary, summarizeProfile } from "./profile-summary.mjs";
import { renderMarkdown } from "./report.mjs";
import { dirBytes, machineInfo, processCpuSeconds, rssBytes } from "./system-stats.mjs";
import { RANGE_KEY, workloads } from "./workloads.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
/** BENCH_MAIN is the built etcd-ts-bench. */
export const BENCH_MAIN = path.join(
  path.dirname(require.resolve("@etcd-ts/bench/package.json")),
  "dist/main.js",
);
const REPO_ROOT = path.resolve(here, "../..");

/**
 * SAME_FLAGS are given to every member of both systems, so they run with the same settings: a snapshot every
 * 10,000 entries and an 8 GiB backend quota (etcd's documented maximum), etcd's default heartbeat/election.
 */
export const SAME_FLAGS = [
  "--snapshot-count",
  "10000",
  "--quota-backend-bytes",
  String(8 * 1024 * 1024 * 1024),
  "--heartbeat-interval",
  "100",
  "--election-timeout",
  "1000",
];

/** DEFAULT_PROFILES are the runs profiled by default: workload id @ cluster size (the leader's profile). */
const DEFAULT_PROFILES = "put-256@1,range-l@3";

/** KINDS in the order of the first round; later rounds alternate. */
const KINDS = /** @type {const} */ (["etcd", "etcd-ts"]);

/**
 * runBench runs etcd-ts-bench once as its own process and returns its JSON result.
 * @param {string[]} endpoints
 * @param {string[]} args
 * @param {{leader?: boolean}} [options]
 */
export function runBench(endpoints, args, options = {}) {
  const argv = [
    BENCH_MAIN,
    "--endpoints",
    endpoints.join(","),
    "--json",
    "--no-progress",
    ...(options.leader ? ["--target-leader"] : []),
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => {
      if (code !== 0) {
        reject(new Error(`etcd-ts-bench ${args.join(" ")} failed (${code}):\n${stderr}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch (err) {
        reject(new Error(`etcd-ts-bench printed no JSON: ${err}\n${stdout}\n${stderr}`));
      }
    });
  });
}

/**
 * figures extracts throughput and p50/p99 (ms) from a bench result.
 * @param {any} result
 * @param {"requests" | "events"} metric
 */
export function figures(result, metric) {
  const stats = metric === "events" ? result.sections[2].stats : result.sections[0].stats;
  const p = (percent) => (stats.percentiles.find((x) => x.percent === percent)?.seconds ?? 0) * 1000;
  const errors = Object.values(stats.errors).reduce((a, b) => a + b, 0);
  return {
    throughput: metric === "events" ? result.extra.eventsPerSecond : stats.requestsPerSecond,
    p50Ms: p(50),
    p99Ms: p(99),
    errors,
    errorMessages: stats.errors,
    operations: stats.count,
    clientCpuPercent: result.clientCpu.percentOfOneCore,
  };
}

/**
 * gatewayPost calls the JSON gateway (both etcd 3.4 and etcd-ts serve /v3/...).
 * @param {string} clientUrl
 * @param {string} route
 * @param {object} body
 */
async function gatewayPost(clientUrl, route, body) {
  const res = await fetch(`${clientUrl}${route}`, {
    method: "POST",
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

const b64 = (s) => Buffer.from(s).toString("base64");

/**
 * keyCount asks a member (serializable) how many keys it holds.
 * @param {string} clientUrl
 */
async function keyCount(clientUrl) {
  const r = await gatewayPost(clientUrl, "/v3/kv/range", {
    key: b64("\0"),
    range_end: b64("\0"),
    count_only: true,
    serializable: true,
  });
  return Number(r.count ?? 0);
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * startSystem starts a cluster of `kind` with SAME_FLAGS in its own directory under `root`.
 * @param {"etcd" | "etcd-ts"} kind
 * @param {number} size
 * @param {string} root
 */
async function startSystem(kind, size, root, more = {}) {
  return startCluster({
    ...more,
    kind,
    size,
    baseDir: path.join(root, `${kind}-${size}`),
    extraArgs: SAME_FLAGS,
    logLevel: "warn",
    token: `compare-${kind}-${size}`,
    readyTimeoutMs: 60_000,
  });
}

/** endpointsOf lists the client URLs of a cluster's running members. */
function endpointsOf(cluster) {
  return cluster.running().map((m) => m.clientUrl);
}

/** serverCpu sums the CPU seconds of a cluster's running members. */
function serverCpu(cluster) {
  return cluster.running().reduce((sum, m) => sum + processCpuSeconds(m.pid), 0);
}

/**
 * compareSize runs every workload on a `size`-member etcd and etcd-ts, `rounds` times, alternating which
 * system goes first.
 */
async function compareSize(size, rounds, quick, root, log, loads) {
  const list = workloads(quick);
  /** @type {Record<string, Record<string, any[]>>} */
  const samples = {};
  const clusters = {};
  try {
    for (const kind of KINDS) {
      log(`starting ${size}-member ${kind}`);
      clusters[kind] = await startSystem(kind, size, root);
      await gatewayPost(clusters[kind].running()[0].clientUrl, "/v3/kv/put", {
        key: b64(RANGE_KEY),
        value: b64("v".repeat(256)),
      });
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? KINDS : [...KINDS].reverse();
      for (const w of list) {
        for (const kind of order) {
          const cluster = clusters[kind];
          const cpuBefore = serverCpu(cluster);
          const started = performance.now();
          const result = await runBench(endpointsOf(cluster), w.args, { leader: w.leader });
          const wallSeconds = (performance.now() - started) / 1000;
          const f = figures(result, w.metric);
          const serverCpuSeconds = serverCpu(cluster) - cpuBefore;
          samples[w.id] ??= {};
          samples[w.id][kind] ??= [];
          samples[w.id][kind].push({ ...f, serverCpuSeconds, wallSeconds, loadAverage: os.loadavg()[0] });
          loads.push(os.loadavg()[0]);
          log(
            `  ${size}m r${round + 1} ${w.id.padEnd(16)} ${kind.padEnd(8)} ${f.throughput.toFixed(0).padStart(7)}/s` +
              `  p50 ${f.p50Ms.toFixed(2)} ms  p99 ${f.p99Ms.toFixed(2)} ms  client CPU ${f.clientCpuPercent.toFixed(0)}%` +
              `  server CPU ${serverCpuSeconds.toFixed(1)} s${f.errors > 0 ? `  ERRORS ${JSON.stringify(f.errorMessages)}` : ""}`,
          );
        }
      }
    }
  } finally {
    for (const c of Object.values(clusters)) await c.cleanup();
  }
  return list.map((w) => {
    const row = { id: w.id, label: w.label, metric: w.metric, target: w.target === true, args: w.args };
    for (const kind of KINDS) {
      const s = samples[w.id]?.[kind] ?? [];
      row[kind] = {
        throughput: median(s.map((x) => x.throughput)),
        p50Ms: median(s.map((x) => x.p50Ms)),
        p99Ms: median(s.map((x) => x.p99Ms)),
        errors: s.reduce((a, x) => a + x.errors, 0),
        clientCpuPercent: median(s.map((x) => x.clientCpuPercent)),
        serverCpuMsPerOp: median(s.map((x) => (x.serverCpuSeconds * 1000) / Math.max(1, x.operations))),
        rounds: s,
      };
    }
    return row;
  });
}

/**
 * measureKeys loads `keys` keys into a fresh 1-member cluster of `kind` (txn-put, 100 puts per txn, 16-byte
 * keys, 100-byte values), then reports RSS, data dir size, and the time to restart (SIGTERM, start, until
 * /health answers and a serializable count sees every key).
 */
async function measureKeys(kind, keys, root, log) {
  const cluster = await startSystem(kind, 1, path.join(root, "keys"));
  try {
    const member = cluster.members[0];
    const txnOps = Math.min(100, keys);
    const loadStarted = performance.now();
    const result = await runBench(endpointsOf(cluster), [
      "--conns",
      "4",
      "--clients",
      "16",
      "txn-put",
      "--txn-ops",
      String(txnOps),
      "--total",
      String(Math.ceil(keys / txnOps)),
      "--key-space-size",
      String(keys),
      "--key-size",
      "16",
      "--val-size",
      "100",
    ]);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const loadErrors = Object.values(result.sections[0].stats.errors).reduce((a, b) => a + b, 0);
    const count = await keyCount(member.clientUrl);
    await sleep(2000);
    const rssLoaded = rssBytes(member.pid);
    const dataBytes = dirBytes(member.dataDir);
    log(
      `  ${kind}: loaded ${count} keys in ${loadSeconds.toFixed(1)} s, RSS ${(rssLoaded / 2 ** 20).toFixed(0)} MiB`,
    );
    await member.stop("SIGTERM");
    const started = performance.now();
    member.spawn();
    let healthMs = 0;
    for (;;) {
      if (!member.running) throw new Error(`${kind} exited during restart:\n${member.logTail()}`);
      try {
        const res = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200 && /"health"\s*:\s*"?true/.test(await res.text())) break;
      } catch {
        // not up yet
      }
      if (performance.now() - started > 300_000) throw new Error(`${kind} did not restart within 300 s`);
      await sleep(20);
    }
    healthMs = performance.now() - started;
    let countAfter = 0;
    for (;;) {
      countAfter = await keyCount(member.clientUrl).catch(() => 0);
      if (countAfter >= count) break;
      if (performance.now() - started > 300_000)
        throw new Error(`${kind} did not serve ${count} keys after restart`);
      await sleep(20);
    }
    const readyMs = performance.now() - started;
    await sleep(1000);
    const rssRestarted = rssBytes(member.pid);
    log(
      `  ${kind}: restart healthy after ${healthMs.toFixed(0)} ms, serving ${countAfter} keys after ${readyMs.toFixed(0)} ms`,
    );
    return { keys: count, loadSeconds, loadErrors, rssLoaded, rssRestarted, dataBytes, healthMs, readyMs };
  } finally {
    await cluster.cleanup();
  }
}

/**
 * childPid returns the first child of a process (the server under cpu-prof-wrapper), or undefined.
 * @param {number | undefined} pid
 */
function childPid(pid) {
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/);
    return children[0] === undefined || children[0] === "" ? undefined : Number(children[0]);
  } catch {
    return undefined;
  }
}

/**
 * profileEtcdTs runs one workload against a `size`-member etcd-ts whose members run under `node --cpu-prof`,
 * and summarizes the leader's profile.
 * @param {string} workloadId
 * @param {number} size
 */
async function profileEtcdTs(workloadId, size, quick, root, log) {
  const w = workloads(quick).find((x) => x.id === workloadId);
  if (w === undefined) throw new Error(`no workload ${workloadId}`);
  const profDir = path.join(root, `profile-${workloadId}-${size}`);
  fs.mkdirSync(profDir, { recursive: true });
  const saved = process.env.COMPARE_CPU_PROF_DIR;
  process.env.COMPARE_CPU_PROF_DIR = profDir;
  let cluster;
  try {
    cluster = await startSystem("etcd-ts", size, path.join(root, `profiled-${workloadId}-${size}`), {
      etcdTsMain: path.join(here, "cpu-prof-wrapper.mjs"),
    });
  } finally {
    if (saved === undefined) delete process.env.COMPARE_CPU_PROF_DIR;
    else process.env.COMPARE_CPU_PROF_DIR = saved;
  }
  let result;
  let leaderPid;
  try {
    await gatewayPost(cluster.running()[0].clientUrl, "/v3/kv/put", {
      key: b64(RANGE_KEY),
      value: b64("v".repeat(256)),
    });
    leaderPid = childPid((await cluster.leader())?.pid);
    result = figures(await runBench(endpointsOf(cluster), w.args, { leader: w.leader }), w.metric);
    log(`  profiled ${w.id} on ${size} member(s): ${result.throughput.toFixed(0)}/s`);
    await cluster.stop("SIGTERM");
  } finally {
    await cluster.cleanup();
  }
  const files = fs.readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
  const file = files.find((f) => leaderPid !== undefined && f.includes(`.${leaderPid}.`)) ?? files[0];
  if (file === undefined) return { workload: w, size, result, summary: undefined };
  const summary = summarizeProfile(path.join(profDir, file), 20);
  return { workload: w, size, result, summary, markdown: formatSummary(summary) };
}

/**
 * compare runs the whole comparison and returns the results object the Markdown is rendered from.
 * @param {{quick?: boolean, rounds?: number, keys?: number, sizes?: number[], profile?: boolean, profileWorkload?: string, log?: (line: string) => void}} options
 */
export async function compare(options = {}) {
  const quick = options.quick === true;
  const rounds = options.rounds ?? (quick ? 1 : 3);
  const keys = options.keys ?? (quick ? 2000 : 1_000_000);
  const sizes = options.sizes ?? (quick ? [1] : [1, 3]);
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  if (!fs.existsSync(BENCH_MAIN))
    throw new Error(`${BENCH_MAIN} is missing: build with \`pnpm --filter @etcd-ts/bench build\``);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-compare-"));
  const started = performance.now();
  try {
    const machine = machineInfo();
    const bySize = [];
    /** 1-minute load average after each run: other processes on the machine skew the figures */
    const loads = [];
    for (const size of sizes)
      bySize.push({ size, rows: await compareSize(size, rounds, quick, root, log, loads) });
    log(`loading ${keys} keys into each system (1 member)`);
    const keyResults = {};
    for (const kind of KINDS) keyResults[kind] = await measureKeys(kind, keys, root, log);
    const profiles = [];
    if (options.profile ?? !quick) {
      for (const spec of (options.profileWorkload ?? DEFAULT_PROFILES).split(",")) {
        const [id, size] = spec.split("@");
        log(`profiling etcd-ts under ${id} on ${size ?? 1} member(s)`);
        profiles.push(await profileEtcdTs(id, Number(size ?? 1), quick, root, log));
      }
    }
    return {
      machine,
      quick,
      rounds,
      sameFlags: SAME_FLAGS,
      bySize,
      keys: { requested: keys, ...keyResults },
      profiles,
      loadAverage: { min: Math.min(...loads), median: median(loads), max: Math.max(...loads) },
      minutes: (performance.now() - started) / 60_000,
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** requireEtcd stops with how to install the reference when Debian's etcd is not on the PATH. */
function requireEtcd() {
  const probe = spawnSync("etcd", ["--version"], { encoding: "utf8" });
  if (probe.status === 0) return;
  process.stderr.write(
    "tools/compare needs the real etcd to compare with: apt-get update && apt-get install -y etcd-server\n",
  );
  process.exit(2);
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      keys: { type: "string" },
      sizes: { type: "string" },
      out: { type: "string" },
      json: { type: "string" },
      notes: { type: "string" },
      profile: { type: "boolean", default: false },
      "no-profile": { type: "boolean", default: false },
      "profile-workload": { type: "string" },
      "from-json": { type: "string" },
    },
  });
  // --from-json re-renders the page from a saved run (e.g. to add --notes) without running anything.
  if (values["from-json"] === undefined) requireEtcd();
  const results =
    values["from-json"] !== undefined
      ? JSON.parse(fs.readFileSync(values["from-json"], "utf8"))
      : await compare({
          quick: values.quick,
          rounds: values.rounds === undefined ? undefined : Number(values.rounds),
          keys: values.keys === undefined ? undefined : Number(values.keys),
          sizes: values.sizes === undefined ? undefined : values.sizes.split(",").map(Number),
          profile: values.profile ? true : values["no-profile"] ? false : undefined,
          profileWorkload: values["profile-workload"],
        });
  const notes = values.notes === undefined ? undefined : fs.readFileSync(values.notes, "utf8");
  const out = values.out ?? path.join(REPO_ROOT, "docs/benchmarks.md");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, renderMarkdown(results, { notes }));
  if (values.json !== undefined) fs.writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`wrote ${out} (${results.minutes.toFixed(1)} min)\n`);
}

if (process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
