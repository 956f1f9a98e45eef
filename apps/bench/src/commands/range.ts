import type { BenchContext } from "../bench-context.js";
import { runClosedLoop } from "../closed-loop.js";
import { CpuMeter } from "../cpu-meter.js";
import { UsageError } from "../errors.js";
import type { BenchResult } from "../options.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rate-limiter.js";
import { Report } from "../report.js";

/** Consistency of a read: linearizable ("l", through the leader's read index) or serializable ("s", local). */
export type Consistency = "l" | "s";

/** RangeOptions are the arguments and flags of `range key [end-range]`. */
export interface RangeOptions {
  readonly key: string;
  /** end of the range (exclusive); empty = the single key */
  readonly endRange: string;
  /** total ranges (10000) */
  readonly total: number;
  /** ranges per second, 0 = no limit (0) */
  readonly rate: number;
  readonly consistency: Consistency;
  /** maximum keys per response, 0 = no limit (0) */
  readonly limit: number;
  /** count only (false) */
  readonly countOnly: boolean;
}

/** DEFAULT_RANGE_OPTIONS are etcd's benchmark defaults for `range` (without the key argument). */
export const DEFAULT_RANGE_OPTIONS: Omit<RangeOptions, "key"> = {
  endRange: "",
  total: 10000,
  rate: 0,
  consistency: "l",
  limit: 0,
  countOnly: false,
};

/** parseConsistency checks `--consistency`. */
export function parseConsistency(value: string): Consistency {
  if (value === "l" || value === "s") return value;
  throw new UsageError(
    `--consistency must be l (linearizable) or s (serializable), got ${JSON.stringify(value)}`,
  );
}

/** consistencyPreamble is the line etcd's benchmark prints before a range run. */
export function consistencyPreamble(consistency: Consistency): string {
  return consistency === "l" ? "bench with linearizable range" : "bench with serializable range";
}

/** runRange benchmarks KV.Range over [key, endRange). */
export async function runRange(ctx: BenchContext, options: RangeOptions): Promise<BenchResult> {
  const encoder = new TextEncoder();
  const key = encoder.encode(options.key);
  const rangeEnd = encoder.encode(options.endRange);
  const serializable = options.consistency === "s";
  const limit = BigInt(options.limit);
  const report = new Report("range");
  const progress = createProgress(options.total, ctx.options.progress);
  const cpu = new CpuMeter();
  report.start();
  await runClosedLoop({
    total: options.total,
    concurrency: ctx.options.clients,
    limiter: new RateLimiter(options.rate),
    progress,
    report: () => report,
    operation: (client) =>
      ctx.kv(client).range({ key, rangeEnd, serializable, limit, countOnly: options.countOnly }),
  });
  const stats = report.finish();
  const clientCpu = cpu.stop();
  progress.stop();
  return {
    command: "range",
    endpoints: ctx.endpoints,
    conns: ctx.options.conns,
    clients: ctx.options.clients,
    preamble: consistencyPreamble(options.consistency),
    sections: [{ stats }],
    clientCpu,
  };
}
