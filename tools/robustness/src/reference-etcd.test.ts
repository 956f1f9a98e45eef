import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { FaultKind } from "./faults/faults.js";
import { defaultRunOptions, runOnce } from "./run.js";

/**
 * The harness checked against the reference: the same runs against real etcd 3.4 (/usr/bin/etcd) must
 * find no violation, or the harness (not etcd-ts) is wrong. Two faults that change the leader.
 */
const faults: readonly FaultKind[] = ["kill-leader", "partition-leader"];

describe("single-fault runs against real etcd (the harness's own check)", () => {
  for (const [i, fault] of faults.entries()) {
    it(`etcd ${fault}`, async () => {
      const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-robustness-reports-"));
      const result = await runOnce({
        ...defaultRunOptions,
        target: "etcd",
        trafficMs: 600,
        fault,
        seed: 500 + i,
        healthBudgetMs: 20_000,
        reportDir,
      });
      expect(result.violations, `${result.fault?.description}; report: ${result.reportPath}`).toEqual([]);
      expect(result.livenessViolations).toEqual([]);
      expect(result.fault?.injected, result.fault?.description).toBe(true);
      expect(result.operationsChecked).toBeGreaterThan(20);
      expect(result.watchEvents).toBeGreaterThan(0);
      if (result.reportPath === undefined) fs.rmSync(reportDir, { recursive: true, force: true });
    });
  }
});
