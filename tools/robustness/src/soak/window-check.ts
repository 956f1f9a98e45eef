import { checkEtcdHistory, type EtcdOperation } from "../checker/etcd-linearizability.js";
import { renderHtmlReport } from "../checker/html-report.js";
import type { CheckVerdict } from "../checker/operation.js";
import type { WatchRecord } from "../traffic/watcher.js";
import { checkWatches, putValues, watchStart } from "../validate/watch-check.js";

/**
 * WindowCheckInput is one soak window: its own fresh keys, written from `keyspaceStart` on, the client
 * history on them and every watch of them. Plain data (structured-clonable), so a worker thread can check
 * it while the next window's traffic runs.
 */
export interface WindowCheckInput {
  readonly title: string;
  readonly history: readonly EtcdOperation[];
  readonly watchers: readonly WatchRecord[];
  /** keyspaceStart: no write to the window's keys got a revision below it. */
  readonly keyspaceStart: number;
  /** finalRevision is the window's fence write: every watcher must have reached it. */
  readonly finalRevision: number;
  /** compacted is true when a compaction may have happened during the window. */
  readonly compacted: boolean;
  readonly checkerTimeoutMs: number;
  /** notes go into the HTML report of a failing window (faults during it). */
  readonly notes: readonly string[];
}

/** WindowCheckResult is what the checks found; `reportHtml` is set for a failing window. */
export interface WindowCheckResult {
  readonly verdict: CheckVerdict;
  readonly operationsChecked: number;
  readonly watchEvents: number;
  readonly violations: readonly string[];
  readonly checkMs: number;
  readonly reportHtml: string | undefined;
}

const lastRevision = (w: WatchRecord) => Math.max(0, ...w.responses.flat().map((e) => e.revision));

/**
 * checkWindow runs the run's validation on one window: linearizability of its history (with the values
 * a complete watcher saw as the persisted ones, as in a single run) and the watch guarantees with revisions
 * shared with other windows' keys.
 */
export function checkWindow(input: WindowCheckInput): WindowCheckResult {
  const started = performance.now();
  const violations: string[] = [];
  const watchResult = checkWatches({
    watchers: input.watchers,
    finalRevision: input.finalRevision,
    history: input.history,
    compacted: input.compacted,
    keyspaceStart: input.keyspaceStart,
  });
  violations.push(...watchResult.violations);
  const complete = input.watchers.find(
    (w) =>
      watchStart(w) <= input.keyspaceStart &&
      w.compactedAt === undefined &&
      lastRevision(w) >= input.finalRevision,
  );
  const persistedValues = complete === undefined ? undefined : putValues(complete);
  const report = checkEtcdHistory(input.history, {
    timeoutMs: input.checkerTimeoutMs,
    ...(persistedValues === undefined ? {} : { persistedValues }),
  });
  violations.push(...report.revisionViolations);
  for (const p of report.partitions) {
    if (p.result.verdict === "illegal")
      violations.push(`history of keys ${p.keys.join(",")} is not linearizable`);
  }
  if (report.verdict === "unknown") violations.push("linearizability check timed out (unknown)");
  return {
    verdict: report.verdict,
    operationsChecked: report.operations.length,
    watchEvents: watchResult.events,
    violations,
    checkMs: performance.now() - started,
    reportHtml:
      violations.length === 0
        ? undefined
        : renderHtmlReport(report, { title: input.title, notes: [...input.notes, ...violations] }),
  };
}
