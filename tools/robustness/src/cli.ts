import fs from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { runCampaign } from "./campaign.js";
import { checkEtcdHistory } from "./checker/etcd-linearizability.js";
import type { Target } from "./cluster/cluster.js";
import { UsageError } from "./errors.js";
import { type FaultKind, faultKinds } from "./faults/faults.js";
import { runFuzz } from "./fuzz/api-fuzz.js";
import type { LoadOptions } from "./options.js";
import { defaultRunOptions, type RunResult } from "./run.js";
import {
  defaultSoakOptions,
  runSoak,
  type SoakFault,
  type SoakSummary,
  type SoakWindow,
} from "./soak/soak.js";
import type { WatchRecord } from "./traffic/watcher.js";
import { putValues } from "./validate/watch-check.js";

const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`--${name} takes a non-negative integer`);
  return n;
};

/** parseDuration reads "30m", "90s", "2h" or plain milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (match === null) throw new InvalidArgumentError(`bad duration ${JSON.stringify(value)} (e.g. 30m, 90s)`);
  const n = Number(match[1]);
  const unit = match[2] ?? "ms";
  return n * (unit === "h" ? 3_600_000 : unit === "m" ? 60_000 : unit === "s" ? 1000 : 1);
}

function parseFaults(value: string): FaultKind[] {
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const name of names) {
    if (!faultKinds.includes(name as FaultKind)) {
      throw new InvalidArgumentError(`unknown fault ${name}; known: ${faultKinds.join(", ")}`);
    }
  }
  return names as FaultKind[];
}

const describeRun = (r: RunResult, index: number, total: string) =>
  `run ${index + 1}/${total} ${r.target} ${r.fault?.kind ?? "?"} seed ${r.seed}: ${r.violations.length > 0 ? "VIOLATIONS" : r.livenessViolations.length > 0 ? "SLOW RECOVERY" : "ok"} ` +
  `${r.operationsChecked} ops checked (${r.requests} requests), ${r.watchEvents} watch events, ` +
  `health ${r.healthMs === undefined ? "-" : `${r.healthMs.toFixed(0)} ms`}, ${(r.durationMs / 1000).toFixed(1)} s ` +
  `(${Object.entries(r.phasesMs)
    .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)}`)
    .join(", ")})` +
  `${r.fault === undefined ? "" : ` [${r.fault.description}]`}` +
  r.violations.map((v) => `\n    ! ${v}`).join("") +
  r.livenessViolations.map((v) => `\n    ~ ${v}`).join("") +
  (r.reportPath === undefined ? "" : `\n    report: ${r.reportPath}`);

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const describeSoakFault = (f: SoakFault) =>
  `fault ${f.index + 1} at ${seconds(f.startedAt)}: ${f.outcome.kind} [${f.outcome.description}], ` +
  `health ${f.healthMs === undefined ? "-" : `${f.healthMs.toFixed(0)} ms`}, HashKV ${f.hashChecked ? "equal" : "not compared"}`;

const describeSoakWindow = (w: SoakWindow) =>
  `window ${w.index} (${w.prefix}): ${w.violations.length > 0 ? "VIOLATIONS" : "ok"} ${w.operationsChecked} ops checked ` +
  `(${w.requests} requests), ${w.watchEvents} watch events, checked in ${seconds(w.checkMs)}` +
  w.violations.map((v) => `\n    ! ${v}`).join("") +
  (w.reportPath === undefined ? "" : `\n    report: ${w.reportPath}`);

const describeSoak = (s: SoakSummary) => {
  const health = [...s.healthMs].sort((a, b) => a - b);
  const at = (q: number) =>
    health[Math.min(health.length - 1, Math.floor(q * health.length))]?.toFixed(0) ?? "-";
  return (
    `\nsoak: ${seconds(s.durationMs)} (traffic ${seconds(s.trafficMs)}), ${s.requests} requests (${s.requestsPerSecond.toFixed(0)} req/s over the traffic), ` +
    `${s.succeeded} answered (${s.answeredPerSecond.toFixed(0)}/s), ` +
    `${s.windows} windows, ${s.operationsChecked} operations checked, ${s.watchEvents} watch events, ` +
    `${s.faultsInjected} faults injected (${[...s.byFault].map(([k, n]) => `${k} ${n}`).join(", ")}), ` +
    `${s.hashChecks} HashKV comparisons, ${s.violations.length} violations, ${s.livenessViolations.length} slow recoveries; ` +
    `recovery median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms; ` +
    `harness event-loop lag p50 ${s.harnessLagMs.p50.toFixed(1)} ms, p99 ${s.harnessLagMs.p99.toFixed(1)} ms, max ${s.harnessLagMs.max.toFixed(0)} ms` +
    `\n  failed requests: ${
      [...s.failures]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([reason, n]) => `${n} ${JSON.stringify(reason)}`)
        .join(", ") || "none"
    }` +
    s.violations.map((v) => `\n  ! ${v}`).join("") +
    s.livenessViolations.map((v) => `\n  ~ ${v}`).join("") +
    (s.rateShortfall === undefined ? "" : `\n  ~ rate: ${s.rateShortfall}`) +
    (s.reportDir === undefined ? "" : `\n  reports: ${s.reportDir}`)
  );
};

/**
 * LoadFlags are the parsed command-line flags that a run and a soak share: LoadOptions without the
 * settings that have no flag, with the health budget optional (3 election timeouts when left out).
 */
export type LoadFlags = Omit<LoadOptions, "snapshotCount" | "checkerTimeoutMs" | "healthBudgetMs"> & {
  readonly healthBudgetMs?: number;
};

/**
 * loadOptions turns the shared flags into a run's or a soak's LoadOptions. A load flag left out (`given`
 * false) takes the mode's own default — a soak's load is capped at 800 req/s from 16 clients, a run's 150 from 8 —
 * so those two cannot simply be commander defaults. The health budget defaults to 3 election timeouts.
 */
export function loadOptions(
  flags: LoadFlags,
  given: (flag: "qps" | "clients") => boolean,
  defaults: LoadOptions,
): LoadOptions {
  return {
    target: flags.target,
    ...(flags.binary === undefined ? {} : { binary: flags.binary }),
    members: flags.members,
    qps: given("qps") ? flags.qps : defaults.qps,
    clients: given("clients") ? flags.clients : defaults.clients,
    keys: flags.keys,
    watchers: flags.watchers,
    requestTimeoutMs: flags.requestTimeoutMs,
    heartbeatMs: flags.heartbeatMs,
    electionTimeoutMs: flags.electionTimeoutMs,
    snapshotCount: defaults.snapshotCount,
    checkerTimeoutMs: defaults.checkerTimeoutMs,
    healthBudgetMs: flags.healthBudgetMs ?? 3 * flags.electionTimeoutMs,
    reportDir: flags.reportDir,
  };
}

/** runCli is the etcd-ts-robustness command line; returns the exit code. */
export async function runCli(
  argv: readonly string[],
  out: (line: string) => void = console.log,
): Promise<number> {
  let exitCode = 0;
  const program = new Command("etcd-ts-robustness")
    .description("fault injection against etcd-ts (or etcd) clusters, histories checked for linearizability")
    .exitOverride();
  program
    .command("run", { isDefault: true })
    .description("single-fault runs on fresh clusters")
    .option("--target <target>", "etcd-ts or etcd (the reference, /usr/bin/etcd)", "etcd-ts")
    .option("--binary <path>", "member binary (default: apps/server/dist/main.js, or /usr/bin/etcd)")
    .option("--members <n>", "cluster size (3 or 5)", integer("members"), defaultRunOptions.members)
    .option("--runs <n>", "number of runs (default: one per fault kind)", integer("runs"))
    .option("--parallel <n>", "runs side by side (each on its own cluster)", integer("parallel"), 1)
    .option(
      "--soak <duration>",
      "instead of runs: one long-lived cluster under traffic for this long (e.g. 30m), a fault every --fault-interval-ms, checked in windows",
      parseDuration,
    )
    .option(
      "--fault-interval-ms <ms>",
      "soak: a fault starts this often",
      integer("fault-interval-ms"),
      defaultSoakOptions.faultIntervalMs,
    )
    .option(
      "--window-ms <ms>",
      "soak: the traffic moves to fresh keys and each window is checked on its own this often",
      integer("window-ms"),
      defaultSoakOptions.windowMs,
    )
    .option(
      "--min-rate <n>",
      "soak: answered requests per second the soak must reach over its traffic (0: no minimum)",
      integer("min-rate"),
      defaultSoakOptions.minAnsweredPerSecond,
    )
    .option("--faults <list>", `comma-separated faults (${faultKinds.join(", ")})`, parseFaults)
    .option("--seed <n>", "seed of the first run (run i uses seed + i)", integer("seed"), 1)
    .option(
      "--traffic-ms <ms>",
      "traffic before the fault and after the heal",
      integer("traffic-ms"),
      defaultRunOptions.trafficMs,
    )
    .option(
      "--qps <n>",
      "target requests per second (soak default: 600)",
      integer("qps"),
      defaultRunOptions.qps,
    )
    .option("--clients <n>", "KV clients (soak default: 16)", integer("clients"), defaultRunOptions.clients)
    .option("--keys <n>", "keys the traffic writes", integer("keys"), defaultRunOptions.keys)
    .option("--watchers <n>", "watchers", integer("watchers"), defaultRunOptions.watchers)
    .option(
      "--request-timeout-ms <ms>",
      "client request timeout",
      integer("request-timeout-ms"),
      defaultRunOptions.requestTimeoutMs,
    )
    .option(
      "--heartbeat-ms <ms>",
      "member heartbeat interval",
      integer("heartbeat-ms"),
      defaultRunOptions.heartbeatMs,
    )
    .option(
      "--election-timeout-ms <ms>",
      "member election timeout",
      integer("election-timeout-ms"),
      defaultRunOptions.electionTimeoutMs,
    )
    .option(
      "--health-budget-ms <ms>",
      "max time to full health after the heal (default 3 election timeouts)",
      integer("health-budget-ms"),
    )
    .option(
      "--report-dir <dir>",
      "where failing runs leave history.json, report.html and logs",
      "robustness-reports",
    )
    .action(async (o, command: Command) => {
      const target = o.target as Target;
      if (target !== "etcd-ts" && target !== "etcd") throw new UsageError("--target is etcd-ts or etcd");
      const given = (name: string) => command.getOptionValueSource(name) === "cli";
      const load = (defaults: LoadOptions) => loadOptions(o, given, defaults);
      if (o.soak !== undefined) {
        if (o.runs !== undefined) throw new UsageError("--soak and --runs do not go together");
        const summary = await runSoak({
          ...load(defaultSoakOptions),
          seed: o.seed,
          durationMs: o.soak,
          faultIntervalMs: o.faultIntervalMs,
          windowMs: o.windowMs,
          faults: o.faults ?? faultKinds,
          minAnsweredPerSecond: o.minRate,
          onFault: (f) => out(describeSoakFault(f)),
          onWindow: (w) => out(describeSoakWindow(w)),
        });
        out(describeSoak(summary));
        const failed =
          summary.violations.length + summary.livenessViolations.length > 0 ||
          summary.rateShortfall !== undefined;
        exitCode = failed ? 1 : 0;
        return;
      }
      const total = String(o.runs ?? (o.faults ?? faultKinds).length);
      const summary = await runCampaign({
        base: { ...load(defaultRunOptions), trafficMs: o.trafficMs },
        faults: o.faults ?? faultKinds,
        firstSeed: o.seed,
        ...(o.runs === undefined ? {} : { runs: o.runs as number }),
        parallel: Math.max(1, o.parallel as number),
        onRun: (r, i) => out(describeRun(r, i, total)),
      });
      out(
        `\n${summary.runs} runs, ${summary.requests} requests, ${summary.operationsChecked} operations checked, ` +
          `${summary.watchEvents} watch events, ${summary.faultsInjected} faults injected ` +
          `(${[...summary.byFault].map(([k, n]) => `${k} ${n}`).join(", ")}), ${summary.violations} violations, ` +
          `${summary.livenessViolations} slow recoveries ` +
          `in ${(summary.durationMs / 1000).toFixed(0)} s`,
      );
      exitCode = summary.violations + summary.livenessViolations === 0 ? 0 : 1;
    });
  program
    .command("check <dir>")
    .description(
      "check a saved history again (a failing run's or soak window's report directory), e.g. with more time",
    )
    .option("--timeout-ms <ms>", "search budget", integer("timeout-ms"), 600_000)
    .action((dir: string, o) => {
      const revive = (_: string, v: unknown) => (v === "Infinity" ? Number.POSITIVE_INFINITY : v);
      const history = JSON.parse(fs.readFileSync(path.join(dir, "history.json"), "utf8"), revive);
      const watchesFile = path.join(dir, "watches.json");
      const watches: WatchRecord[] = fs.existsSync(watchesFile)
        ? JSON.parse(fs.readFileSync(watchesFile, "utf8"))
        : [];
      // Watcher 0 starts where the run's (or window's) keys begin: if it was never compacted, it saw every
      // value the cluster applied to them.
      const first = watches.find((w) => w.id === 0 && w.compactedAt === undefined);
      const persistedValues = first === undefined ? undefined : putValues(first);
      const started = Date.now();
      const report = checkEtcdHistory(history, {
        timeoutMs: o.timeoutMs,
        ...(persistedValues === undefined ? {} : { persistedValues }),
      });
      out(
        `${report.verdict}: ${report.operations.length} operations in ${report.partitions.length} partitions, ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s` +
          `${persistedValues === undefined ? " (no complete watch log)" : ""}`,
      );
      for (const p of report.partitions) {
        if (p.result.verdict !== "ok") out(`  ${p.result.verdict}: keys ${p.keys.join(",")}`);
      }
      for (const v of report.revisionViolations) out(`  ! ${v}`);
      exitCode = report.verdict === "ok" && report.revisionViolations.length === 0 ? 0 : 1;
    });
  program
    .command("fuzz")
    .description("random and mutated protobuf / JSON requests for every RPC against a live member")
    .option("--target <target>", "etcd-ts or etcd", "etcd-ts")
    .option("--binary <path>", "member binary")
    .option("--seed <n>", "fast-check seed", integer("seed"), 1)
    .option("--count <n>", "requests per RPC and encoding", integer("count"), 20)
    .action(async (o) => {
      const target = o.target as Target;
      if (target !== "etcd-ts" && target !== "etcd") throw new UsageError("--target is etcd-ts or etcd");
      const result = await runFuzz({
        target,
        seed: o.seed,
        perMethod: o.count,
        ...(o.binary === undefined ? {} : { binary: o.binary as string }),
      });
      out(
        `${result.requests} requests over ${result.methods} RPCs: ${result.validAnswers} valid answers, ` +
          `${result.etcdErrors} etcd errors, ${result.violations.length} violations`,
      );
      for (const v of result.violations) out(`  ! ${v}`);
      exitCode = result.violations.length === 0 ? 0 : 1;
    });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
    if (e.code?.startsWith("commander.")) return e.exitCode === 0 ? 0 : 2;
    out(`error: ${e.message ?? String(err)}`);
    return 2;
  }
  return exitCode;
}
