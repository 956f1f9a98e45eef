import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, it } from "vitest";
import { faultKinds } from "./faults/faults.js";
import { defaultRunOptions, type RunResult, runOnce } from "./run.js";

/**
 * The CI set: short single-fault runs against etcd-ts cycling through every fault kind (ROBUSTNESS_RUNS,
 * default 20). Safety (linearizability, watch guarantees, HashKV, no lost write, no crash) must hold in
 * every run. Recovery time is checked against a loose CI budget (20 s: a restarted member starts in
 * seconds on a loaded 2-core machine); the strict "3 election timeouts" bound is the CLI's default, and
 * docs/robustness.md has the recovery times measured with it.
 */
const runs = Number(process.env.ROBUSTNESS_RUNS ?? 20);
const ciHealthBudgetMs = 20_000;
const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-robustness-reports-"));
const results: RunResult[] = [];

afterAll(() => {
  const ops = results.reduce((n, r) => n + r.operationsChecked, 0);
  const events = results.reduce((n, r) => n + r.watchEvents, 0);
  const health = results.map((r) => r.healthMs ?? 0).sort((a, b) => a - b);
  console.log(
    `robustness: ${results.length} runs, ${ops} operations checked, ${events} watch events, ` +
      `${results.filter((r) => r.fault?.injected).length} faults injected, ` +
      `${results.reduce((n, r) => n + r.violations.length, 0)} violations, ` +
      `recovery median ${health[Math.floor(health.length / 2)]?.toFixed(0)} ms, max ${health[health.length - 1]?.toFixed(0)} ms`,
  );
  if (results.every((r) => r.reportPath === undefined))
    fs.rmSync(reportDir, { recursive: true, force: true });
});

// Two runs at a time (vitest.config.ts maxConcurrency): a run mostly waits (member start-up, the fault,
// recovery), so two clusters side by side halve the wall time on 2 cores without starving either.
describe.concurrent("single-fault runs against etcd-ts", () => {
  for (let i = 0; i < runs; i++) {
    const fault = faultKinds[i % faultKinds.length] ?? "kill-leader";
    it(`run ${i + 1}: ${fault}`, async ({ expect }) => {
      const result = await runOnce({
        ...defaultRunOptions,
        trafficMs: 600,
        fault,
        seed: 1000 + i,
        healthBudgetMs: ciHealthBudgetMs,
        reportDir,
      });
      results.push(result);
      expect(result.violations, `${result.fault?.description}; report: ${result.reportPath}`).toEqual([]);
      expect(result.livenessViolations).toEqual([]);
      expect(result.verdict).toBe("ok");
      expect(result.fault?.injected, result.fault?.description).toBe(true);
      expect(result.operationsChecked).toBeGreaterThan(20);
      expect(result.watchEvents).toBeGreaterThan(0);
    });
  }
});
