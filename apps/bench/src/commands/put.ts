import type { BenchContext } from "../bench-context.js";
import { runClosedLoop } from "../closed-loop.js";
import { CpuMeter } from "../cpu-meter.js";
import { UsageError } from "../errors.js";
import { encodeKey, keyNumber, randomValue } from "../keys.js";
import type { BenchResult } from "../options.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rate-limiter.js";
import { Report } from "../report.js";

/** PutOptions are the flags of `put` (etcd's defaults). */
export interface PutOptions {
  /** total puts (10000) */
  readonly total: number;
  /** key size in bytes (8) */
  readonly keySize: number;
  /** value size in bytes (8) */
  readonly valSize: number;
  /** puts per second, 0 = no limit (0) */
  readonly rate: number;
  /** distinct keys (1) */
  readonly keySpaceSize: number;
  /** keys 0,1,2,... instead of random (false) */
  readonly sequentialKeys: boolean;
}

/** DEFAULT_PUT_OPTIONS are etcd's benchmark defaults for `put`. */
export const DEFAULT_PUT_OPTIONS: PutOptions = {
  total: 10000,
  keySize: 8,
  valSize: 8,
  rate: 0,
  keySpaceSize: 1,
  sequentialKeys: false,
};

/** checkKeySpace rejects a key space etcd's benchmark rejects. */
export function checkKeySpace(keySpaceSize: number): void {
  if (!(keySpaceSize > 0)) throw new UsageError(`expected positive --key-space-size, got (${keySpaceSize})`);
}

/** runPut benchmarks KV.Put: `total` puts of `valSize`-byte values by `--clients` requesters. */
export async function runPut(ctx: BenchContext, options: PutOptions): Promise<BenchResult> {
  checkKeySpace(options.keySpaceSize);
  const value = randomValue(options.valSize);
  const report = new Report("put");
  const progress = createProgress(options.total, ctx.options.progress);
  const cpu = new CpuMeter();
  report.start();
  await runClosedLoop({
    total: options.total,
    concurrency: ctx.options.clients,
    limiter: new RateLimiter(options.rate),
    progress,
    report: () => report,
    operation: (client, i) =>
      ctx.kv(client).put({
        key: encodeKey(keyNumber(i, options.keySpaceSize, options.sequentialKeys), options.keySize),
        value,
      }),
  });
  const stats = report.finish();
  const clientCpu = cpu.stop();
  progress.stop();
  return {
    command: "put",
    endpoints: ctx.endpoints,
    conns: ctx.options.conns,
    clients: ctx.options.clients,
    sections: [{ stats }],
    clientCpu,
  };
}
