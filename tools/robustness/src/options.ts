import type { Target } from "./cluster/cluster.js";

/**
 * LoadOptions are what a single-fault run and a soak share: the cluster under test, its timing, the
 * client load on it and the checks' budgets. RunOptions and SoakOptions add what only they need.
 */
export interface LoadOptions {
  readonly target: Target;
  /** binary is the member executable (default: apps/server/dist/main.js, or /usr/bin/etcd). */
  readonly binary?: string;
  readonly members: number;
  /** qps is the target total request rate of all clients together. */
  readonly qps: number;
  /** clients are sequential: each has one request in flight at a time. */
  readonly clients: number;
  readonly keys: number;
  readonly watchers: number;
  readonly requestTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly electionTimeoutMs: number;
  readonly snapshotCount: number;
  readonly checkerTimeoutMs: number;
  /** healthBudgetMs: every member must serve linearizable reads this soon after a fault heals. */
  readonly healthBudgetMs: number;
  /** reportDir receives history.json, report.html and member logs of what failed. */
  readonly reportDir?: string;
}
