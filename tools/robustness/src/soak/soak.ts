import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { RobustnessCluster } from "../cluster/cluster.js";
import { type EtcdClient, errorText, toNumber } from "../cluster/etcd-client.js";
import { type FaultKind, type FaultOutcome, faultKinds, injectFault } from "../faults/faults.js";
import type { LoadOptions } from "../options.js";
import { Random } from "../random.js";
import { sleep } from "../sleep.js";
import { prefixEnd, Traffic } from "../traffic/traffic.js";
import { Watcher } from "../traffic/watcher.js";
import type { WindowCheckResult } from "./window-check.js";
import { WindowChecker } from "./window-checker.js";

/** SoakOptions describe one soak: a long-lived cluster, continuous traffic, a fault every interval. */
export interface SoakOptions extends LoadOptions {
  readonly seed: number;
  readonly durationMs: number;
  /** maxFaults, when set, also ends the soak once this many faults have healed (whichever comes first). */
  readonly maxFaults?: number;
  /** faultIntervalMs: a fault starts this often (the next one waits for the previous heal and health). */
  readonly faultIntervalMs: number;
  /** windowMs: the traffic moves to fresh keys this often; each window is checked on its own. */
  readonly windowMs: number;
  readonly faults: readonly FaultKind[];
  /**
   * minAnsweredPerSecond is the rate the soak must reach: answered requests over the traffic's span (etcd's
   * robustness suite checks its MinimalQPS the same way, on successes). `qps` only caps the offered load.
   * 0 checks nothing.
   */
  readonly minAnsweredPerSecond: number;
  /** onFault / onWindow are told about each healed fault and each checked window (progress output). */
  readonly onFault?: (fault: SoakFault) => void;
  readonly onWindow?: (window: SoakWindow) => void;
}

/**
 * defaultSoakOptions: the issue's soak (500+ answered requests/s, a fault every 5 s) on a 3-member cluster.
 * The offered load is capped above the required rate, as etcd's robustness traffic caps its MaximalQPS
 * above the MinimalQPS it requires: clients that take the next free slot lose every slot that falls while
 * all of them wait, so a cap at the target itself is never reached.
 */
export const defaultSoakOptions: Omit<SoakOptions, "seed" | "durationMs"> = {
  target: "etcd-ts",
  members: 3,
  faultIntervalMs: 5000,
  windowMs: 5000,
  faults: faultKinds,
  minAnsweredPerSecond: 500,
  qps: 800,
  clients: 16,
  keys: 10,
  watchers: 6,
  requestTimeoutMs: 1000,
  heartbeatMs: 50,
  electionTimeoutMs: 500,
  snapshotCount: 1000,
  checkerTimeoutMs: 60_000,
  healthBudgetMs: 1500,
};

/** SoakFault is one injected fault and how the cluster came back from it. */
export interface SoakFault {
  readonly index: number;
  readonly outcome: FaultOutcome;
  readonly startedAt: number;
  readonly healthMs: number | undefined;
  /** hashChecked is false when no common revision could be hashed (compactions kept moving it). */
  readonly hashChecked: boolean;
}

/** SoakWindow is one checked window of traffic. */
export interface SoakWindow {
  readonly index: number;
  readonly prefix: string;
  readonly requests: number;
  readonly succeeded: number;
  readonly operationsChecked: number;
  readonly watchEvents: number;
  readonly violations: readonly string[];
  readonly checkMs: number;
  readonly reportPath: string | undefined;
}

/** SoakSummary are the figures docs/robustness.md reports for a soak. */
export interface SoakSummary {
  /** durationMs is the whole soak: start-up, traffic, the last checks and the final convergence. */
  readonly durationMs: number;
  /** trafficMs is how long the traffic ran (from the first window to the last one's end). */
  readonly trafficMs: number;
  readonly requests: number;
  readonly succeeded: number;
  /** requestsPerSecond is requests over the traffic time (`trafficMs`). */
  readonly requestsPerSecond: number;
  /** answeredPerSecond is answered requests over the traffic time: what `minAnsweredPerSecond` bounds. */
  readonly answeredPerSecond: number;
  /** rateShortfall says how the soak fell short of `minAnsweredPerSecond` (undefined when it did not). */
  readonly rateShortfall: string | undefined;
  /** failures counts the failed requests by error message. */
  readonly failures: ReadonlyMap<string, number>;
  readonly windows: number;
  readonly operationsChecked: number;
  readonly watchEvents: number;
  readonly faultsInjected: number;
  readonly byFault: ReadonlyMap<FaultKind, number>;
  readonly hashChecks: number;
  readonly violations: readonly string[];
  readonly livenessViolations: readonly string[];
  /** healthMs lists each fault's time from heal to every member serving a linearizable read. */
  readonly healthMs: readonly number[];
  /**
   * harnessLagMs is how late the harness's own event loop ran (p50, p99, max): the clients, watchers and
   * peer fault proxies share it, so a busy harness delays every request and every peer message.
   */
  readonly harnessLagMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly reportDir: string | undefined;
}

interface OpenWindow {
  readonly index: number;
  readonly prefix: string;
  readonly startedAt: number;
  readonly keyspaceStart: number;
  readonly traffic: Traffic;
  readonly watchers: Watcher[];
  readonly timers: NodeJS.Timeout[];
}

/**
 * runSoak keeps one cluster under traffic for `durationMs` and injects a fault every `faultIntervalMs`
 * (cycling through `faults`; each heals before the next starts). The history is checked in windows: every
 * window writes its own fresh keys (`w<i>/key/...`), has its own watchers, ends with a fence write that
 * every watcher must see and a linearizable list through every member, and is checked for
 * linearizability and the watch guarantees on a worker thread while the next window runs. After each
 * fault the members' HashKV at a common revision must agree; at the end, with traffic stopped, too.
 */
export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const started = performance.now();
  const now = () => performance.now() - started;
  const lagResolutionMs = 10;
  const lag = monitorEventLoopDelay({ resolution: lagResolutionMs });
  lag.enable();
  const rng = new Random(options.seed);
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-soak-"));
  const violations: string[] = [];
  const livenessViolations: string[] = [];
  const healthMs: number[] = [];
  const faults: SoakFault[] = [];
  const windows: SoakWindow[] = [];
  const storms: Array<{ from: number; to: number }> = [];
  const checker = new WindowChecker();
  const reportDir =
    options.reportDir === undefined
      ? undefined
      : path.join(options.reportDir, `soak-${options.target}-${options.seed}`);
  let hashChecks = 0;
  let aborted = false;
  let requests = 0;
  // The traffic's span, for the rate: the first window opens after start-up, the last closes at --soak.
  let trafficStartedAt: number | undefined;
  let trafficEndedAt: number | undefined;
  let succeeded = 0;
  const failures = new Map<string, number>();
  let cluster: RobustnessCluster | undefined;
  const collectCrashes = () => {
    for (const m of cluster?.members ?? []) {
      violations.push(...m.crashes.splice(0).map((c) => `member crashed: ${c}`));
    }
  };
  const fail = (message: string) => {
    violations.push(message);
    aborted = true;
  };
  try {
    cluster = await RobustnessCluster.start({
      target: options.target,
      size: options.members,
      baseDir,
      rng,
      heartbeatMs: options.heartbeatMs,
      electionTimeoutMs: options.electionTimeoutMs,
      snapshotCount: options.snapshotCount,
      ...(options.binary === undefined ? {} : { binary: options.binary }),
    });
    const c = cluster;
    const memberClient = (i: number): EtcdClient => {
      const all = c.members;
      const m = all[((i % all.length) + all.length) % all.length] ?? all[0];
      if (m === undefined) throw new Error("a cluster has members");
      return m.client;
    };
    const running = () =>
      !aborted &&
      now() < options.durationMs &&
      faults.length < (options.maxFaults ?? Number.POSITIVE_INFINITY);

    // --- Faults: one every interval, each healed and followed by a health and a HashKV check.
    const faultLoop = async () => {
      const first = Math.min(options.faultIntervalMs, 1000);
      for (let i = 0; running(); i++) {
        const due = first + i * options.faultIntervalMs;
        if (due > now()) await sleep(due - now());
        if (!running()) break;
        const kind = options.faults[i % options.faults.length] ?? "kill-leader";
        const startedAt = now();
        let outcome: FaultOutcome;
        try {
          outcome = await injectFault(kind, {
            cluster: c,
            rng,
            now,
            electionTimeoutMs: options.electionTimeoutMs,
          });
        } catch (err) {
          fail(`fault ${i} (${kind}) failed: ${errorText(err)}`);
          break;
        }
        if (outcome.compacted) storms.push({ from: startedAt, to: now() });
        let health: number | undefined;
        try {
          await c.waitHealthy(c.running(), 30_000);
          health = now() - outcome.healedAt;
          healthMs.push(health);
          if (health > options.healthBudgetMs) {
            livenessViolations.push(
              `fault ${i} (${outcome.description}): health took ${health.toFixed(0)} ms after the heal (budget ${options.healthBudgetMs} ms)`,
            );
          }
        } catch (err) {
          fail(`fault ${i} (${outcome.description}): the cluster did not recover: ${errorText(err)}`);
        }
        const hashChecked = aborted ? false : await hashCheck(c, violations);
        if (hashChecked) hashChecks++;
        collectCrashes();
        const fault = { index: i, outcome, startedAt, healthMs: health, hashChecked };
        faults.push(fault);
        options.onFault?.(fault);
      }
    };

    // --- Windows: fresh keys, traffic and watchers; closed and checked while the next one runs.
    let maxRevision = 1;
    const noteRevisions = (t: Traffic) => {
      for (let i = t.history.length - 1; i >= 0 && i >= t.history.length - 200; i--) {
        const out = t.history[i]?.output;
        if (out !== undefined && "revision" in out) maxRevision = Math.max(maxRevision, out.revision);
      }
    };
    const openWindow = async (index: number): Promise<OpenWindow> => {
      const prefix = `w${index}/key/`;
      const end = prefixEnd(prefix);
      const watchers: Watcher[] = [];
      const startWatcher = (startRevision: number) => {
        const id = watchers.length;
        const w = new Watcher(id, startRevision, prefix, end, (failures) => memberClient(id + failures));
        watchers.push(w);
        w.start();
        return w;
      };
      // Watcher 0 watches from "now" and the traffic starts once it is created: every write of the window
      // comes after it, so it sees them all. (A fixed start revision can be compacted away before the watch
      // is created: a compaction storm compacts up to the current revision.)
      const first = startWatcher(0);
      const createdBy = now() + 10_000;
      while (first.record.createdRevision === undefined && now() < createdBy && !aborted) await sleep(10);
      // Without it (no member answered in time), every write of the window still comes after every answer
      // seen so far.
      const keyspaceStart = (first.record.createdRevision ?? maxRevision) + 1;
      startWatcher(keyspaceStart);
      const traffic = new Traffic(
        {
          clients: options.clients,
          keys: options.keys,
          qps: options.qps,
          requestTimeoutMs: options.requestTimeoutMs,
          seed: options.seed * 100_003 + index,
          prefix,
        },
        (clientId, failures) => memberClient(clientId + failures),
        now,
      );
      traffic.start();
      const later = setTimeout(() => {
        noteRevisions(traffic);
        for (let i = 2; i < options.watchers; i++)
          startWatcher(Math.max(1, maxRevision + rng.between(-100, 100)));
      }, options.windowMs / 2);
      return { index, prefix, startedAt: now(), keyspaceStart, traffic, watchers, timers: [later] };
    };

    const closeWindow = async (w: OpenWindow): Promise<void> => {
      for (const t of w.timers) clearTimeout(t);
      await w.traffic.stop();
      noteRevisions(w.traffic);
      const t = w.traffic;
      // The fence: one acknowledged write after all the window's answered ones; every watcher must see it.
      let finalRevision: number | undefined;
      const fenceDeadline = now() + 60_000;
      for (let attempt = 0; finalRevision === undefined && now() < fenceDeadline; attempt++) {
        const out = await t.record(900, memberClient(attempt), {
          type: "put",
          key: `${w.prefix}fence`,
          value: `fence-${w.index}-${attempt}`,
        });
        if (out?.type === "put") finalRevision = out.revision;
        else await sleep(100);
      }
      if (finalRevision === undefined) {
        fail(`window ${w.index}: no write succeeded for 60 s after its traffic stopped`);
        await Promise.all(w.watchers.map((x) => x.stop()));
        return;
      }
      maxRevision = Math.max(maxRevision, finalRevision);
      // A linearizable list through every member: a lost write shows up here.
      for (const [i, m] of c.running().entries()) {
        await t.record(1000 + i, m.client, { type: "range", key: w.prefix, end: prefixEnd(w.prefix) });
      }
      const fence = finalRevision;
      const behind = (x: Watcher) =>
        x.record.compactedAt === undefined && x.lastRevision < fence && x.record.startRevision <= fence;
      const deadline = now() + 30_000;
      while (now() < deadline && w.watchers.some(behind)) await sleep(50);
      await Promise.all(w.watchers.map((x) => x.stop()));
      requests += t.stats.requests;
      succeeded += t.stats.succeeded;
      for (const [reason, n] of t.stats.failures) failures.set(reason, (failures.get(reason) ?? 0) + n);
      const closedAt = now();
      const during = faults
        .filter((f) => f.startedAt <= closedAt && f.outcome.healedAt >= w.startedAt)
        .map((f) => `fault ${f.index} at ${(f.startedAt / 1000).toFixed(1)} s: ${f.outcome.description}`);
      let result: WindowCheckResult;
      try {
        result = await checker.check({
          title: `${options.target} soak seed ${options.seed}, window ${w.index} (${w.prefix})`,
          history: t.history,
          watchers: w.watchers.map((x) => x.record),
          keyspaceStart: w.keyspaceStart,
          finalRevision: fence,
          compacted: storms.some((s) => s.from <= closedAt && s.to >= w.startedAt),
          checkerTimeoutMs: options.checkerTimeoutMs,
          notes: during,
        });
      } catch (err) {
        fail(`window ${w.index}: the check failed: ${errorText(err)}`);
        return;
      }
      let reportPath: string | undefined;
      if (result.violations.length > 0) {
        violations.push(...result.violations.map((v) => `window ${w.index}: ${v}`));
        if (reportDir !== undefined) {
          reportPath = path.join(reportDir, `window-${w.index}`);
          fs.mkdirSync(reportPath, { recursive: true });
          fs.writeFileSync(
            path.join(reportPath, "history.json"),
            JSON.stringify(t.history, (_, v) => (v === Number.POSITIVE_INFINITY ? "Infinity" : v)),
          );
          fs.writeFileSync(
            path.join(reportPath, "watches.json"),
            JSON.stringify(w.watchers.map((x) => x.record)),
          );
          fs.writeFileSync(path.join(reportPath, "report.html"), result.reportHtml ?? "");
        }
      }
      const window: SoakWindow = {
        index: w.index,
        prefix: w.prefix,
        requests: t.stats.requests,
        succeeded: t.stats.succeeded,
        operationsChecked: result.operationsChecked,
        watchEvents: result.watchEvents,
        violations: result.violations,
        checkMs: result.checkMs,
        reportPath,
      };
      windows.push(window);
      options.onWindow?.(window);
    };

    const windowLoop = async () => {
      trafficStartedAt = now();
      const closing: Promise<void>[] = [];
      let current = await openWindow(0);
      for (let i = 1; ; i++) {
        const end = Math.min(i * options.windowMs, options.durationMs);
        while (now() < end && running()) await sleep(Math.min(200, end - now()));
        const next = running() ? await openWindow(i) : undefined;
        if (next === undefined) trafficEndedAt = now();
        closing.push(closeWindow(current));
        if (next === undefined) break;
        current = next;
      }
      await Promise.all(closing);
    };

    await Promise.all([faultLoop(), windowLoop()]);
    // The end: traffic stopped, every member at the same revision with the same HashKV.
    if (!aborted) {
      try {
        await c.waitHealthy(c.running(), 30_000);
        const hashes = await c.converge(30_000);
        hashChecks++;
        const distinct = new Set(hashes.map((h) => `${h.hash}/${h.compactRevision}`));
        if (distinct.size > 1) {
          violations.push(
            `HashKV differs at the end (revision ${hashes[0]?.revision}): ${hashes.map((h) => `${h.member}=${h.hash}/compact ${h.compactRevision}`).join(", ")}`,
          );
        }
      } catch (err) {
        violations.push(`the cluster did not converge at the end: ${errorText(err)}`);
      }
    }
  } catch (err) {
    violations.push(`soak failed: ${errorText(err)}`);
  } finally {
    collectCrashes();
    await checker.close().catch(() => undefined);
    if (
      reportDir !== undefined &&
      violations.length + livenessViolations.length > 0 &&
      cluster !== undefined
    ) {
      fs.mkdirSync(reportDir, { recursive: true });
      for (const m of cluster.members) fs.writeFileSync(path.join(reportDir, `${m.name}.log`), m.output);
      fs.writeFileSync(
        path.join(reportDir, "violations.txt"),
        [...violations, ...livenessViolations].join("\n"),
      );
    }
    await cluster?.stop();
    fs.rmSync(baseDir, { recursive: true, force: true });
  }
  const byFault = new Map<FaultKind, number>();
  for (const f of faults) {
    if (f.outcome.injected) byFault.set(f.outcome.kind, (byFault.get(f.outcome.kind) ?? 0) + 1);
  }
  const durationMs = now();
  lag.disable();
  const trafficMs = Math.max(1, (trafficEndedAt ?? durationMs) - (trafficStartedAt ?? 0));
  const answeredPerSecond = succeeded / (trafficMs / 1000);
  const rateShortfall =
    answeredPerSecond < options.minAnsweredPerSecond
      ? `${answeredPerSecond.toFixed(0)} answered requests/s over the traffic, below the minimum ${options.minAnsweredPerSecond}`
      : undefined;
  return {
    durationMs,
    trafficMs,
    requests,
    succeeded,
    requestsPerSecond: requests / (trafficMs / 1000),
    answeredPerSecond,
    rateShortfall,
    failures,
    windows: windows.length,
    operationsChecked: windows.reduce((n, w) => n + w.operationsChecked, 0),
    watchEvents: windows.reduce((n, w) => n + w.watchEvents, 0),
    faultsInjected: faults.filter((f) => f.outcome.injected).length,
    byFault,
    hashChecks,
    violations,
    livenessViolations,
    healthMs,
    // The histogram holds the time between samples; the lag is what exceeds the sampling interval.
    harnessLagMs: {
      p50: Math.max(0, lag.percentile(50) / 1e6 - lagResolutionMs),
      p99: Math.max(0, lag.percentile(99) / 1e6 - lagResolutionMs),
      max: Math.max(0, lag.max / 1e6 - lagResolutionMs),
    },
    reportDir: violations.length + livenessViolations.length > 0 ? reportDir : undefined,
  };
}

/**
 * hashCheck compares the running members' HashKV at a revision every one of them has applied, while the
 * traffic goes on. A compaction that lands between the calls changes what is hashed: then it tries again
 * at a newer revision. Returns whether a comparison was made.
 */
async function hashCheck(cluster: RobustnessCluster, violations: string[]): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const live = cluster.running().filter((m) => !m.stopped);
    try {
      const statuses = await Promise.all(
        live.map((m) => m.client.maintenance.status({}, { timeoutMs: 2000 })),
      );
      const revision = Math.min(...statuses.map((s) => toNumber(s.header?.revision ?? 0n)));
      const hashes = await Promise.all(
        live.map((m) => m.client.maintenance.hashKV({ revision: BigInt(revision) }, { timeoutMs: 5000 })),
      );
      const compacts = new Set(hashes.map((h) => h.compactRevision));
      if (compacts.size === 1) {
        if (new Set(hashes.map((h) => h.hash)).size > 1) {
          violations.push(
            `HashKV differs at revision ${revision}: ${live.map((m, i) => `${m.name}=${hashes[i]?.hash}`).join(", ")}`,
          );
        }
        return true;
      }
    } catch {
      // a compacted or not yet applied revision, or a member still catching up: try again
    }
    await sleep(100);
  }
  return false;
}
