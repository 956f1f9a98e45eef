#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { BenchContext } from "./bench-context.js";
import { DEFAULT_LEASE_KEEPALIVE_OPTIONS, runLeaseKeepalive } from "./commands/lease-keepalive.js";
import { DEFAULT_PUT_OPTIONS, runPut } from "./commands/put.js";
import { DEFAULT_RANGE_OPTIONS, parseConsistency, runRange } from "./commands/range.js";
import { DEFAULT_STM_OPTIONS, parseIsolation, runStm } from "./commands/stm.js";
import { DEFAULT_TXN_MIXED_OPTIONS, runTxnMixed } from "./commands/txn-mixed.js";
import { DEFAULT_TXN_PUT_OPTIONS, runTxnPut } from "./commands/txn-put.js";
import { DEFAULT_WATCH_OPTIONS, runWatch } from "./commands/watch.js";
import { DEFAULT_WATCH_LATENCY_OPTIONS, runWatchLatency } from "./commands/watch-latency.js";
import type { TransportKind } from "./connections.js";
import { parseEndpoints } from "./endpoints.js";
import { UsageError } from "./errors.js";
import { formatClientCpu, formatResult } from "./format.js";
import type { BenchResult, GlobalOptions } from "./options.js";

function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number >= 0");
  return n;
}

interface RawGlobals {
  endpoints: string;
  conns: number;
  clients: number;
  targetLeader: boolean;
  precise: boolean;
  json: boolean;
  progress: boolean;
  transport: string;
}

function parseTransport(value: string): TransportKind {
  if (value === "lean" || value === "connect") return value;
  throw new UsageError(`--transport must be lean or connect, got ${JSON.stringify(value)}`);
}

async function run(cmd: Command, body: (ctx: BenchContext) => Promise<BenchResult>): Promise<void> {
  const raw = cmd.optsWithGlobals<RawGlobals>();
  const options: GlobalOptions = {
    endpoints: parseEndpoints(raw.endpoints),
    conns: raw.conns,
    clients: raw.clients,
    targetLeader: raw.targetLeader,
    transport: parseTransport(raw.transport),
    progress: raw.progress && !raw.json,
  };
  const ctx = await BenchContext.open(options);
  let result: BenchResult;
  try {
    result = await body(ctx);
  } finally {
    ctx.close();
  }
  if (raw.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(formatResult(result, { precise: raw.precise }));
    process.stderr.write(formatClientCpu(result));
  }
}

const program = new Command("etcd-ts-bench")
  .description("A low-level benchmark tool for etcd v3 (etcd-ts or real etcd), after etcd's tools/benchmark.")
  .option("--endpoints <list>", "gRPC endpoints, comma-separated", "127.0.0.1:2379")
  .option("--conns <n>", "Total number of gRPC (HTTP/2) connections", integer(1), 1)
  .option("--clients <n>", "Total number of concurrent gRPC clients", integer(1), 1)
  .option("--target-leader", "connect only to the leader node", false)
  .option("--precise", "use full floating point precision", false)
  .option("--json", "print the result as one JSON object instead of etcd's text report", false)
  .option("--no-progress", "never draw a progress bar")
  .option(
    "--transport <lean|connect>",
    "unary call path: lean (gRPC framed directly on the HTTP/2 session) or connect (connect-node's gRPC transport)",
    "lean",
  );

program
  .command("put")
  .description("Benchmark put")
  .option("--total <n>", "Total number of put requests", integer(1), DEFAULT_PUT_OPTIONS.total)
  .option("--key-size <n>", "Key size of put request", integer(1), DEFAULT_PUT_OPTIONS.keySize)
  .option("--val-size <n>", "Value size of put request", integer(0), DEFAULT_PUT_OPTIONS.valSize)
  .option("--rate <n>", "Maximum puts per second (0 is no limit)", positiveNumber, DEFAULT_PUT_OPTIONS.rate)
  .option("--key-space-size <n>", "Maximum possible keys", integer(0), DEFAULT_PUT_OPTIONS.keySpaceSize)
  .option("--sequential-keys", "Use sequential keys", false)
  .action((opts, cmd: Command) => run(cmd, (ctx) => runPut(ctx, opts)));

program
  .command("range")
  .description("Benchmark range")
  .argument("<key>", "first key of the range")
  .argument("[end-range]", "end of the range (exclusive)", "")
  .option("--total <n>", "Total number of range requests", integer(1), DEFAULT_RANGE_OPTIONS.total)
  .option("--rate <n>", "Maximum range requests per second (0 is no limit)", positiveNumber, 0)
  .option("--consistency <l|s>", "Linearizable(l) or Serializable(s)", "l")
  .option(
    "--limit <n>",
    "Maximum number of results to return from range request (0 is no limit)",
    integer(0),
    0,
  )
  .option("--count-only", "Only returns the count of keys", false)
  .action((key: string, endRange: string, opts, cmd: Command) =>
    run(cmd, (ctx) =>
      runRange(ctx, {
        ...opts,
        key,
        endRange,
        consistency: parseConsistency(opts.consistency),
      }),
    ),
  );

program
  .command("txn-put")
  .description("Benchmark txn-put")
  .option("--total <n>", "Total number of txn requests", integer(1), DEFAULT_TXN_PUT_OPTIONS.total)
  .option("--key-size <n>", "Key size of txn put", integer(1), DEFAULT_TXN_PUT_OPTIONS.keySize)
  .option("--val-size <n>", "Value size of txn put", integer(0), DEFAULT_TXN_PUT_OPTIONS.valSize)
  .option("--txn-ops <n>", "Number of puts per txn", integer(1), DEFAULT_TXN_PUT_OPTIONS.txnOps)
  .option("--rate <n>", "Maximum txns per second (0 is no limit)", positiveNumber, 0)
  .option("--key-space-size <n>", "Maximum possible keys", integer(0), DEFAULT_TXN_PUT_OPTIONS.keySpaceSize)
  .action((opts, cmd: Command) => run(cmd, (ctx) => runTxnPut(ctx, opts)));

program
  .command("txn-mixed")
  .description("Benchmark a mixed load of txn-put & txn-range.")
  .argument("[key]", "first key of the read range (default: every key)", "")
  .argument("[end-range]", "end of the read range", "")
  .option("--total <n>", "Total number of txn requests", integer(1), DEFAULT_TXN_MIXED_OPTIONS.total)
  .option("--key-size <n>", "Key size of mixed txn", integer(1), DEFAULT_TXN_MIXED_OPTIONS.keySize)
  .option("--val-size <n>", "Value size of mixed txn", integer(0), DEFAULT_TXN_MIXED_OPTIONS.valSize)
  .option("--rate <n>", "Maximum txns per second (0 is no limit)", positiveNumber, 0)
  .option("--key-space-size <n>", "Maximum possible keys", integer(0), DEFAULT_TXN_MIXED_OPTIONS.keySpaceSize)
  .option("--consistency <l|s>", "Linearizable(l) or Serializable(s)", "l")
  .option("--limit <n>", "Read operation range result limit", integer(0), DEFAULT_TXN_MIXED_OPTIONS.limit)
  .option("--rw-ratio <r>", "Read/write ops ratio", positiveNumber, DEFAULT_TXN_MIXED_OPTIONS.rwRatio)
  .action((key: string, endRange: string, opts, cmd: Command) =>
    run(cmd, (ctx) =>
      runTxnMixed(ctx, { ...opts, key, endRange, consistency: parseConsistency(opts.consistency) }),
    ),
  );

program
  .command("watch")
  .description("Benchmark watch: watchers on keys, puts to them, events delivered and put-to-event latency")
  .option("--streams <n>", "Total watch streams", integer(1), DEFAULT_WATCH_OPTIONS.streams)
  .option(
    "--watch-per-stream <n>",
    "Total watchers per stream",
    integer(1),
    DEFAULT_WATCH_OPTIONS.watchPerStream,
  )
  .option(
    "--watched-key-total <n>",
    "Total number of keys to be watched",
    integer(1),
    DEFAULT_WATCH_OPTIONS.watchedKeyTotal,
  )
  .option(
    "--put-rate <n>",
    "Number of keys to put per second (0 is no limit)",
    positiveNumber,
    DEFAULT_WATCH_OPTIONS.putRate,
  )
  .option("--put-total <n>", "Number of put requests", integer(0), DEFAULT_WATCH_OPTIONS.putTotal)
  .option("--key-size <n>", "Key size of watch request", integer(8), DEFAULT_WATCH_OPTIONS.keySize)
  .option("--val-size <n>", "Value size of put request", integer(4), DEFAULT_WATCH_OPTIONS.valSize)
  .action((opts, cmd: Command) => run(cmd, (ctx) => runWatch(ctx, opts)));

program
  .command("watch-latency")
  .description("Benchmark watch latency: time from writing a key to each watcher receiving the event")
  .option("--total <n>", "Total number of put requests", integer(1), DEFAULT_WATCH_LATENCY_OPTIONS.total)
  .option(
    "--put-rate <n>",
    "Number of keys to put per second",
    positiveNumber,
    DEFAULT_WATCH_LATENCY_OPTIONS.putRate,
  )
  .option("--key-size <n>", "Key size of watch response", integer(1), DEFAULT_WATCH_LATENCY_OPTIONS.keySize)
  .option("--val-size <n>", "Value size of watch response", integer(4), DEFAULT_WATCH_LATENCY_OPTIONS.valSize)
  .action((opts, cmd: Command) => run(cmd, (ctx) => runWatchLatency(ctx, opts)));

program
  .command("lease-keepalive")
  .description("Benchmark lease keepalive")
  .option(
    "--total <n>",
    "Total number of lease keepalive requests",
    integer(1),
    DEFAULT_LEASE_KEEPALIVE_OPTIONS.total,
  )
  .option("--rate <n>", "Maximum keep-alives per second (0 is no limit)", positiveNumber, 0)
  .action((opts, cmd: Command) => run(cmd, (ctx) => runLeaseKeepalive(ctx, opts)));

program
  .command("stm")
  .description("Benchmark STM")
  .option(
    "--isolation <c|r|s|ss>",
    "Read Committed (c), Repeatable Reads (r), Serializable (s), or Snapshot (ss)",
    "r",
  )
  .option("--keys <n>", "Total unique keys accessible by the benchmark", integer(1), DEFAULT_STM_OPTIONS.keys)
  .option("--total <n>", "Total number of completed STM transactions", integer(1), DEFAULT_STM_OPTIONS.total)
  .option(
    "--keys-per-txn <n>",
    "Number of keys to access per transaction",
    integer(0),
    DEFAULT_STM_OPTIONS.keysPerTxn,
  )
  .option(
    "--txn-wr-percent <n>",
    "Percentage of keys to overwrite per transaction",
    integer(0),
    DEFAULT_STM_OPTIONS.txnWrPercent,
  )
  .option("--val-size <n>", "Value size of each STM put request", integer(0), DEFAULT_STM_OPTIONS.valSize)
  .option("--rate <n>", "Maximum STM transactions per second (0 is no limit)", positiveNumber, 0)
  .action((opts, cmd: Command) =>
    run(cmd, (ctx) => runStm(ctx, { ...opts, isolation: parseIsolation(opts.isolation) })),
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(
    `${err instanceof UsageError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
