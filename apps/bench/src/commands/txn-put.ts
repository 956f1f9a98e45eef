import type { BenchContext } from "../bench-context.js";
import { runClosedLoop } from "../closed-loop.js";
import { CpuMeter } from "../cpu-meter.js";
import { UsageError } from "../errors.js";
import { encodeKey, randomValue } from "../keys.js";
import type { BenchResult } from "../options.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rate-limiter.js";
import { Report } from "../report.js";
import { checkKeySpace } from "./put.js";

/** TxnPutOptions are the flags of `txn-put` (etcd's defaults). */
export interface TxnPutOptions {
  /** total transactions (10000) */
  readonly total: number;
  readonly keySize: number;
  readonly valSize: number;
  /** puts per transaction (1) */
  readonly txnOps: number;
  readonly rate: number;
  readonly keySpaceSize: number;
}

/** DEFAULT_TXN_PUT_OPTIONS are etcd's benchmark defaults for `txn-put`. */
export const DEFAULT_TXN_PUT_OPTIONS: TxnPutOptions = {
  total: 10000,
  keySize: 8,
  valSize: 8,
  txnOps: 1,
  rate: 0,
  keySpaceSize: 1,
};

/**
 * runTxnPut benchmarks KV.Txn with `txnOps` puts and no compares per transaction. The keys of transaction i
 * are (i*txnOps + j) % keySpaceSize, so a transaction never names a key twice while keySpaceSize >= txnOps.
 */
export async function runTxnPut(ctx: BenchContext, options: TxnPutOptions): Promise<BenchResult> {
  checkKeySpace(options.keySpaceSize);
  if (options.txnOps < 1 || options.txnOps > options.keySpaceSize) {
    throw new UsageError(
      `expected --txn-ops between 1 and --key-space-size (${options.keySpaceSize}), got (${options.txnOps})`,
    );
  }
  const value = randomValue(options.valSize);
  const report = new Report("txn-put");
  const progress = createProgress(options.total, ctx.options.progress);
  const cpu = new CpuMeter();
  report.start();
  await runClosedLoop({
    total: options.total,
    concurrency: ctx.options.clients,
    limiter: new RateLimiter(options.rate),
    progress,
    report: () => report,
    operation: (client, i) => {
      const success = [];
      for (let j = 0; j < options.txnOps; j++) {
        const key = encodeKey((i * options.txnOps + j) % options.keySpaceSize, options.keySize);
        success.push({ request: { case: "requestPut" as const, value: { key, value } } });
      }
      return ctx.kv(client).txn({ success });
    },
  });
  const stats = report.finish();
  const clientCpu = cpu.stop();
  progress.stop();
  return {
    command: "txn-put",
    endpoints: ctx.endpoints,
    conns: ctx.options.conns,
    clients: ctx.options.clients,
    sections: [{ stats }],
    clientCpu,
  };
}
