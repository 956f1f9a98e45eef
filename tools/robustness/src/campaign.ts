import { type FaultKind, faultKinds } from "./faults/faults.js";
import { type RunOptions, type RunResult, runOnce } from "./run.js";

/** CampaignOptions describe a series of single-fault runs. */
export interface CampaignOptions {
  readonly base: Omit<RunOptions, "fault" | "seed">;
  /** faults are cycled through, one per run. */
  readonly faults: readonly FaultKind[];
  readonly firstSeed: number;
  /** runs bounds the number of runs (default: one per fault kind). */
  readonly runs?: number;
  /** parallel runs this many clusters side by side (default 1; each run still has one fault). */
  readonly parallel?: number;
  /** onRun is told about each finished run (progress output). */
  readonly onRun?: (result: RunResult, index: number) => void;
}

/** CampaignSummary are the figures docs/robustness.md reports. */
export interface CampaignSummary {
  readonly runs: number;
  readonly requests: number;
  readonly operationsChecked: number;
  readonly watchEvents: number;
  readonly faultsInjected: number;
  readonly violations: number;
  /** livenessViolations count runs that healed later than the health budget. */
  readonly livenessViolations: number;
  readonly failedRuns: readonly RunResult[];
  readonly byFault: ReadonlyMap<FaultKind, number>;
  readonly durationMs: number;
}

/**
 * runCampaign runs single-fault runs, one after another or `parallel` at a time (seed = firstSeed + run
 * index, fault = the faults cycled), and sums up what they checked.
 */
export async function runCampaign(options: CampaignOptions): Promise<CampaignSummary> {
  const started = Date.now();
  const results: RunResult[] = [];
  const faults = options.faults.length > 0 ? options.faults : faultKinds;
  const total = options.runs ?? faults.length;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const fault = faults[index % faults.length] as FaultKind;
      const result = await runOnce({ ...options.base, fault, seed: options.firstSeed + index });
      results.push(result);
      options.onRun?.(result, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 1) }, worker));
  const byFault = new Map<FaultKind, number>();
  for (const r of results) {
    if (r.fault?.injected === true) byFault.set(r.fault.kind, (byFault.get(r.fault.kind) ?? 0) + 1);
  }
  return {
    runs: results.length,
    requests: results.reduce((n, r) => n + r.requests, 0),
    operationsChecked: results.reduce((n, r) => n + r.operationsChecked, 0),
    watchEvents: results.reduce((n, r) => n + r.watchEvents, 0),
    faultsInjected: results.filter((r) => r.fault?.injected === true).length,
    violations: results.reduce((n, r) => n + r.violations.length, 0),
    livenessViolations: results.reduce((n, r) => n + r.livenessViolations.length, 0),
    failedRuns: results.filter((r) => r.violations.length + r.livenessViolations.length > 0),
    byFault,
    durationMs: Date.now() - started,
  };
}
