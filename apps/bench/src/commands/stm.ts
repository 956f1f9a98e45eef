import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type CompareSchema,
  type RequestOpSchema,
} from "@etcd-ts/proto/etcdserverpb";
import type { BenchContext } from "../bench-context.js";
import { runClosedLoop } from "../closed-loop.js";
import { CpuMeter } from "../cpu-meter.js";
import { UsageError } from "../errors.js";
import { encodeKey, randomValue } from "../keys.js";
import type { BenchResult } from "../options.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rate-limiter.js";
import { Report } from "../report.js";

/**
 * Isolation of an STM transaction, as etcd's client/v3/concurrency names them: read committed (c),
 * repeatable reads (r), serializable (s), serializable snapshot (ss).
 */
export type Isolation = "c" | "r" | "s" | "ss";

/** StmOptions are the flags of `stm` (etcd's defaults). */
export interface StmOptions {
  /** total committed transactions (10000) */
  readonly total: number;
  /** distinct keys (1) */
  readonly keys: number;
  /** keys read per transaction (1) */
  readonly keysPerTxn: number;
  /** percent of the read keys also written (50) */
  readonly txnWrPercent: number;
  readonly isolation: Isolation;
  readonly valSize: number;
  readonly rate: number;
}

/** DEFAULT_STM_OPTIONS are etcd's benchmark defaults for `stm`. */
export const DEFAULT_STM_OPTIONS: StmOptions = {
  total: 10000,
  keys: 1,
  keysPerTxn: 1,
  txnWrPercent: 50,
  isolation: "r",
  valSize: 8,
  rate: 0,
};

/** Retries of one transaction before it counts as failed (a bound; contention retries are normal). */
const MAX_STM_RETRIES = 1000;

/** Key size of the STM keys (etcd's benchmark uses 16-byte varint keys). */
const STM_KEY_SIZE = 16;

/** parseIsolation checks `--isolation`. */
export function parseIsolation(value: string): Isolation {
  if (value === "c" || value === "r" || value === "s" || value === "ss") return value;
  throw new UsageError(`--isolation must be c, r, s or ss, got ${JSON.stringify(value)}`);
}

/**
 * runStm benchmarks software transactional memory the way etcd's STM client does it: read a random set of
 * keys, then commit a Txn that writes txnWrPercent% of them guarded by compares on what was read (repeatable
 * reads: each read key's mod revision; serializable: reads at the first read's revision and the write set
 * unchanged too; read committed: no compares), retrying from scratch when a compare fails. The latency of a
 * transaction includes its retries.
 */
export async function runStm(ctx: BenchContext, options: StmOptions): Promise<BenchResult> {
  if (options.keys <= 0) throw new UsageError(`expected positive --keys, got (${options.keys})`);
  if (options.txnWrPercent < 0 || options.txnWrPercent > 100) {
    throw new UsageError(`expected [0, 100] --txn-wr-percent, got (${options.txnWrPercent})`);
  }
  if (options.keysPerTxn < 0 || options.keysPerTxn > options.keys) {
    throw new UsageError(
      `expected --keys-per-txn between 0 and ${options.keys}, got (${options.keysPerTxn})`,
    );
  }
  const report = new Report("stm");
  const progress = createProgress(options.total, ctx.options.progress);
  const cpu = new CpuMeter();
  let conflicts = 0;

  const transaction = async (client: number): Promise<void> => {
    const kv = ctx.kv(client);
    const picked = new Set<number>();
    while (picked.size < options.keysPerTxn) picked.add(Math.floor(Math.random() * options.keys));
    const keys = [...picked].map((n) => encodeKey(n, STM_KEY_SIZE));
    const writes = Math.floor((keys.length * options.txnWrPercent) / 100);
    for (let attempt = 0; attempt < MAX_STM_RETRIES; attempt++) {
      let readRevision = 0n;
      const compare: MessageInitShape<typeof CompareSchema>[] = [];
      for (const key of keys) {
        const serializableSnapshot = options.isolation === "s" || options.isolation === "ss";
        const response = await kv.range({
          key,
          revision: serializableSnapshot ? readRevision : 0n,
          serializable: serializableSnapshot && readRevision !== 0n,
        });
        if (readRevision === 0n) readRevision = response.header?.revision ?? 0n;
        if (options.isolation !== "c") {
          compare.push({
            key,
            result: options.isolation === "ss" ? Compare_CompareResult.LESS : Compare_CompareResult.EQUAL,
            target: Compare_CompareTarget.MOD,
            targetUnion: {
              case: "modRevision",
              value: options.isolation === "ss" ? readRevision + 1n : (response.kvs[0]?.modRevision ?? 0n),
            },
          });
        }
      }
      const success: MessageInitShape<typeof RequestOpSchema>[] = [];
      for (let w = 0; w < writes; w++) {
        success.push({
          request: { case: "requestPut", value: { key: keys[w]!, value: randomValue(options.valSize) } },
        });
      }
      const txn = await kv.txn({ compare, success });
      if (txn.succeeded) return;
      conflicts++;
    }
    throw new Error(`stm: transaction still conflicting after ${MAX_STM_RETRIES} attempts`);
  };

  report.start();
  await runClosedLoop({
    total: options.total,
    concurrency: ctx.options.clients,
    limiter: new RateLimiter(options.rate),
    progress,
    report: () => report,
    operation: (client) => transaction(client),
  });
  const stats = report.finish();
  const clientCpu = cpu.stop();
  progress.stop();
  return {
    command: "stm",
    endpoints: ctx.endpoints,
    conns: ctx.options.conns,
    clients: ctx.options.clients,
    sections: [{ stats }],
    extra: { conflicts },
    clientCpu,
  };
}
