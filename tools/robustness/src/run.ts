import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { checkEtcdHistory } from "./checker/etcd-linearizability.js";
import { renderHtmlReport } from "./checker/html-report.js";
import { RobustnessCluster, type Target } from "./cluster/cluster.js";
import { errorText } from "./cluster/etcd-client.js";
import { type FaultKind, type FaultOutcome, injectFault } from "./faults/faults.js";
import type { LoadOptions } from "./options.js";
import { Random } from "./random.js";
import { sleep } from "./sleep.js";
import { keyPrefix, keyPrefixEnd, Traffic } from "./traffic/traffic.js";
import { Watcher } from "./traffic/watcher.js";
import { checkWatches, putValues } from "./validate/watch-check.js";

/** RunOptions describe one robustness run: a fresh cluster, traffic, one fault, validation. */
export interface RunOptions extends LoadOptions {
  readonly fault: FaultKind;
  readonly seed: number;
  /** trafficMs is how long traffic runs before the fault and again after it healed. */
  readonly trafficMs: number;
}

/** defaultRunOptions are the CI-sized settings (a few seconds of traffic per run). */
export const defaultRunOptions: Omit<RunOptions, "fault" | "seed"> = {
  target: "etcd-ts",
  members: 3,
  trafficMs: 800,
  qps: 150,
  clients: 8,
  keys: 10,
  watchers: 6,
  requestTimeoutMs: 1000,
  heartbeatMs: 50,
  electionTimeoutMs: 500,
  snapshotCount: 100,
  checkerTimeoutMs: 60_000,
  healthBudgetMs: 1500,
};

/** RunResult is what one run found. */
export interface RunResult {
  readonly seed: number;
  readonly target: Target;
  readonly fault: FaultOutcome | undefined;
  readonly requests: number;
  readonly succeeded: number;
  /** operationsChecked is the history size the linearizability checker searched. */
  readonly operationsChecked: number;
  readonly watchEvents: number;
  readonly verdict: "ok" | "illegal" | "unknown";
  readonly violations: readonly string[];
  /** livenessViolations: the cluster served again, but later than `healthBudgetMs` after the heal. */
  readonly livenessViolations: readonly string[];
  /** healthMs is how long the cluster took to serve on every member after the fault healed. */
  readonly healthMs: number | undefined;
  readonly durationMs: number;
  /** phasesMs is how long each phase of the run took (start, traffic, fault, health, drain, check, stop). */
  readonly phasesMs: Readonly<Record<string, number>>;
  readonly reportPath: string | undefined;
}

/**
 * runOnce runs etcd's robustness scenario once: start a cluster behind fault proxies, run traffic and
 * watchers, inject one fault and heal it, run traffic again, then validate linearizability, the watch
 * guarantees, equal HashKV on every member, and health within 3 election timeouts of the heal.
 */
export async function runOnce(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const now = () => performance.now() - started;
  const rng = new Random(options.seed);
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-robustness-"));
  const violations: string[] = [];
  const livenessViolations: string[] = [];
  let cluster: RobustnessCluster | undefined;
  const watchers: Watcher[] = [];
  let traffic: Traffic | undefined;
  let fault: FaultOutcome | undefined;
  let healthMs: number | undefined;
  let reportPath: string | undefined;
  let verdict: RunResult["verdict"] = "ok";
  let operationsChecked = 0;
  let watchEvents = 0;
  const phasesMs: Record<string, number> = {};
  let phaseStart = 0;
  const phase = (name: string) => {
    const t = now();
    phasesMs[name] = (phasesMs[name] ?? 0) + (t - phaseStart);
    phaseStart = t;
  };
  // A member that exited on its own (not killed by a fault) is a violation, even if a fault restarted it.
  const collectCrashes = () => {
    for (const m of cluster?.members ?? []) {
      violations.push(...m.crashes.splice(0).map((c) => `member crashed: ${c}`));
    }
  };
  try {
    for (let attempt = 1; cluster === undefined; attempt++) {
      try {
        cluster = await RobustnessCluster.start({
          target: options.target,
          size: options.members,
          baseDir: fs.mkdtempSync(path.join(baseDir, "cluster-")),
          rng,
          heartbeatMs: options.heartbeatMs,
          electionTimeoutMs: options.electionTimeoutMs,
          snapshotCount: options.snapshotCount,
          ...(options.binary === undefined ? {} : { binary: options.binary }),
        });
      } catch (err) {
        // A free port taken by another process between our probe and the member's bind: try new ports. (A
        // peer port taken by another cluster's member shows up as that member's cluster id.)
        const text = errorText(err);
        if (attempt >= 3 || !(text.includes("EADDRINUSE") || text.includes("cluster ID mismatch"))) throw err;
      }
    }
    phase("start");
    const c = cluster;
    const memberFor = (i: number) => {
      const all = c.members;
      return all[((i % all.length) + all.length) % all.length] ?? (all[0] as (typeof all)[number]);
    };
    const startWatcher = (startRevision: number) => {
      const id = watchers.length;
      const w = new Watcher(
        id,
        startRevision,
        keyPrefix,
        keyPrefixEnd,
        (failures) => memberFor(id + failures).client,
      );
      watchers.push(w);
      w.start();
    };
    startWatcher(1);
    startWatcher(0);
    const t = new Traffic(
      {
        clients: options.clients,
        keys: options.keys,
        qps: options.qps,
        requestTimeoutMs: options.requestTimeoutMs,
        seed: options.seed,
      },
      (clientId, failures) => memberFor(clientId + failures).client,
      now,
    );
    traffic = t;
    t.start();
    await sleep(options.trafficMs / 2);
    const current = Math.max(
      1,
      ...t.history.map((op) => (op.output !== undefined && "revision" in op.output ? op.output.revision : 1)),
    );
    for (let i = 2; i < options.watchers; i++) startWatcher(Math.max(1, current + rng.between(-100, 100)));
    await sleep(options.trafficMs / 2);
    phase("traffic");
    fault = await injectFault(options.fault, {
      cluster: c,
      rng,
      now,
      electionTimeoutMs: options.electionTimeoutMs,
    });
    const healedAt = fault.healedAt;
    phase("fault");
    try {
      await c.waitHealthy(c.running(), 30_000);
      healthMs = now() - healedAt;
      if (healthMs > options.healthBudgetMs) {
        livenessViolations.push(
          `health took ${healthMs.toFixed(0)} ms after the heal (budget ${options.healthBudgetMs} ms)`,
        );
      }
    } catch (err) {
      violations.push(`cluster did not recover after the fault: ${errorText(err)}`);
    }
    phase("health");
    const remaining = options.trafficMs - (now() - healedAt);
    if (remaining > 0) await sleep(remaining);
    await t.stop();
    phase("traffic");
    // Final state: HashKV equal on every member at the same revision.
    const hashes = await c.converge(30_000);
    const finalRevision = hashes[0]?.revision ?? 0;
    const distinct = new Set(hashes.map((h) => `${h.hash}/${h.compactRevision}`));
    if (distinct.size > 1) {
      violations.push(
        `HashKV differs at revision ${finalRevision}: ${hashes.map((h) => `${h.member}=${h.hash}/compact ${h.compactRevision}`).join(", ")}`,
      );
    }
    // A final linearizable list through every member joins the history: a lost write shows up there.
    for (const [i, m] of c.running().entries()) {
      await t.record(1000 + i, m.client, { type: "range", key: keyPrefix, end: keyPrefixEnd });
    }
    // Watchers must all reach the final revision.
    const deadline = Date.now() + 10_000;
    const behind = (w: Watcher) =>
      w.record.compactedAt === undefined &&
      w.lastRevision < finalRevision &&
      w.record.startRevision <= finalRevision;
    while (Date.now() < deadline && watchers.some(behind)) {
      await sleep(50);
    }
    await Promise.all(watchers.map((w) => w.stop()));
    phase("drain");
    const watchResult = checkWatches({
      watchers: watchers.map((w) => w.record),
      finalRevision,
      history: t.history,
      compacted: fault.compacted,
    });
    watchEvents = watchResult.events;
    violations.push(...watchResult.violations);
    // A watcher from revision 1 that was never compacted and reached the end saw every applied value.
    const complete = watchers.find(
      (w) =>
        w.record.startRevision === 1 && w.record.compactedAt === undefined && w.lastRevision >= finalRevision,
    );
    const persistedValues = complete === undefined ? undefined : putValues(complete.record);
    const report = checkEtcdHistory(t.history, {
      timeoutMs: options.checkerTimeoutMs,
      ...(persistedValues === undefined ? {} : { persistedValues }),
    });
    operationsChecked = report.operations.length;
    violations.push(...report.revisionViolations);
    for (const p of report.partitions) {
      if (p.result.verdict === "illegal")
        violations.push(`history of keys ${p.keys.join(",")} is not linearizable`);
    }
    verdict = report.verdict;
    phase("check");
    if (report.verdict === "unknown") violations.push("linearizability check timed out (unknown)");
    collectCrashes();
    if (violations.length + livenessViolations.length > 0 && options.reportDir !== undefined) {
      const dir = path.join(options.reportDir, `${options.target}-${options.fault}-${options.seed}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, "history.json"),
        JSON.stringify(t.history, (_, v) => (v === Number.POSITIVE_INFINITY ? "Infinity" : v)),
      );
      fs.writeFileSync(path.join(dir, "watches.json"), JSON.stringify(watchers.map((w) => w.record)));
      fs.writeFileSync(
        path.join(dir, "report.html"),
        renderHtmlReport(report, {
          title: `${options.target} ${options.fault} seed ${options.seed}`,
          notes: [fault.description, ...violations, ...livenessViolations],
        }),
      );
      for (const m of c.members) fs.writeFileSync(path.join(dir, `${m.name}.log`), m.output);
      reportPath = dir;
    }
  } catch (err) {
    violations.push(`run failed: ${errorText(err)}`);
    verdict = "unknown";
    if (traffic !== undefined) await traffic.stop().catch(() => undefined);
    await Promise.all(watchers.map((w) => w.stop().catch(() => undefined)));
  } finally {
    collectCrashes();
    phase("other");
    await cluster?.stop();
    fs.rmSync(baseDir, { recursive: true, force: true });
    phase("stop");
  }
  return {
    seed: options.seed,
    target: options.target,
    fault,
    requests: traffic?.stats.requests ?? 0,
    succeeded: traffic?.stats.succeeded ?? 0,
    operationsChecked,
    watchEvents,
    verdict,
    violations,
    livenessViolations,
    healthMs,
    durationMs: now(),
    phasesMs,
    reportPath,
  };
}
