import type { BenchContext } from "../bench-context.js";
import { runClosedLoop } from "../closed-loop.js";
import { CpuMeter } from "../cpu-meter.js";
import { encodeKey, randomValue } from "../keys.js";
import type { BenchResult } from "../options.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rate-limiter.js";
import { Report } from "../report.js";
import { checkKeySpace } from "./put.js";
import { type Consistency, consistencyPreamble } from "./range.js";

/** TxnMixedOptions are the arguments and flags of `txn-mixed key [end-range]`. */
export interface TxnMixedOptions {
  /** range reads start at this key ("" = the whole key space) */
  readonly key: string;
  /** end of the read range; "" reads every key from `key` on */
  readonly endRange: string;
  readonly total: number;
  readonly rate: number;
  readonly keySize: number;
  readonly valSize: number;
  readonly keySpaceSize: number;
  readonly consistency: Consistency;
  /** read range limit (1000) */
  readonly limit: number;
  /** reads per write (1) */
  readonly rwRatio: number;
}

/** DEFAULT_TXN_MIXED_OPTIONS are etcd's benchmark defaults for `txn-mixed`. */
export const DEFAULT_TXN_MIXED_OPTIONS: TxnMixedOptions = {
  key: "",
  endRange: "",
  total: 10000,
  rate: 0,
  keySize: 8,
  valSize: 8,
  keySpaceSize: 1,
  consistency: "l",
  limit: 1000,
  rwRatio: 1,
};

/**
 * runTxnMixed benchmarks a random mix of one-op transactions: a range read with probability
 * rwRatio/(1+rwRatio), else a put of key i % keySpaceSize. Reads and writes are reported separately.
 */
export async function runTxnMixed(ctx: BenchContext, options: TxnMixedOptions): Promise<BenchResult> {
  checkKeySpace(options.keySpaceSize);
  const encoder = new TextEncoder();
  // "" as the start key means "every key": etcd's client turns a prefix of "" into [\0, \0).
  const key = options.key === "" ? new Uint8Array([0]) : encoder.encode(options.key);
  const rangeEnd = options.endRange === "" ? new Uint8Array([0]) : encoder.encode(options.endRange);
  const value = randomValue(options.valSize);
  const serializable = options.consistency === "s";
  const limit = BigInt(options.limit);
  const readProbability = options.rwRatio / (1 + options.rwRatio);
  const isRead: boolean[] = [];
  for (let i = 0; i < options.total; i++) isRead.push(Math.random() < readProbability);
  const reads = new Report("txn-mixed-read");
  const writes = new Report("txn-mixed-write");
  const progress = createProgress(options.total, ctx.options.progress);
  const cpu = new CpuMeter();
  reads.start();
  writes.start();
  await runClosedLoop({
    total: options.total,
    concurrency: ctx.options.clients,
    limiter: new RateLimiter(options.rate),
    progress,
    report: (i) => (isRead[i] === true ? reads : writes),
    operation: (client, i) =>
      ctx.kv(client).txn({
        success: [
          isRead[i] === true
            ? { request: { case: "requestRange", value: { key, rangeEnd, serializable, limit } } }
            : {
                request: {
                  case: "requestPut",
                  value: { key: encodeKey(i % options.keySpaceSize, options.keySize), value },
                },
              },
        ],
      }),
  });
  const readStats = reads.finish();
  const writeStats = writes.finish();
  const clientCpu = cpu.stop();
  progress.stop();
  const readOps = readStats.count + Object.values(readStats.errors).reduce((a, b) => a + b, 0);
  const writeOps = writeStats.count + Object.values(writeStats.errors).reduce((a, b) => a + b, 0);
  return {
    command: "txn-mixed",
    endpoints: ctx.endpoints,
    conns: ctx.options.conns,
    clients: ctx.options.clients,
    preamble: consistencyPreamble(options.consistency),
    sections: [
      { title: `Total Read Ops: ${readOps}\nDetails:`, stats: readStats },
      { title: `Total Write Ops: ${writeOps}\nDetails:`, stats: writeStats },
    ],
    clientCpu,
  };
}
