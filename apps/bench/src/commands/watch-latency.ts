import { randomBytes } from "node:crypto";
import type { BenchContext } from "../bench-context.js";
import { errorMessage } from "../closed-loop.js";
import { CpuMeter } from "../cpu-meter.js";
import { UsageError } from "../errors.js";
import type { BenchResult } from "../options.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rate-limiter.js";
import { Report } from "../report.js";
import { WatchChannel } from "../watch-channel.js";

/** WatchLatencyOptions are the flags of `watch-latency` (etcd's defaults). */
export interface WatchLatencyOptions {
  /** total puts (10000) */
  readonly total: number;
  /** puts per second (100) */
  readonly putRate: number;
  /** key size (32) */
  readonly keySize: number;
  /** value size (32, at least 4: the value carries the put's number) */
  readonly valSize: number;
}

/** DEFAULT_WATCH_LATENCY_OPTIONS are etcd's benchmark defaults for `watch-latency`. */
export const DEFAULT_WATCH_LATENCY_OPTIONS: WatchLatencyOptions = {
  total: 10000,
  putRate: 100,
  keySize: 32,
  valSize: 32,
};

/** How long a put's events may take before they count as lost. */
const EVENT_TIMEOUT_MS = 10_000;

/**
 * runWatchLatency puts one key `total` times at `putRate`; `--clients` watchers (one Watch stream each,
 * spread over the connections) watch it, and the report holds, for every watcher and put, the time from
 * sending the put to that watcher receiving its event. Puts go over their own connection.
 */
export async function runWatchLatency(ctx: BenchContext, options: WatchLatencyOptions): Promise<BenchResult> {
  if (options.valSize < 4) throw new UsageError(`expected --val-size >= 4, got (${options.valSize})`);
  const key = new Uint8Array(randomBytes(options.keySize));
  const watchers = ctx.options.clients;
  const report = new Report("watch-latency");
  const putStartMs = new Float64Array(options.total);
  let current = -1;
  let received = 0;
  let allReceived: (() => void) | undefined;
  const onEvents = (
    _id: bigint,
    events: readonly { kv?: { value: Uint8Array } | undefined }[],
    at: number,
  ) => {
    for (const event of events) {
      const value = event.kv?.value;
      if (value === undefined || value.length < 4) continue;
      const i = new DataView(value.buffer, value.byteOffset, 4).getUint32(0);
      if (i !== current) continue;
      report.record(at - putStartMs[i]!);
      received++;
      if (received === watchers) allReceived?.();
    }
  };
  const channels: WatchChannel[] = [];
  for (let c = 0; c < watchers; c++) channels.push(new WatchChannel(ctx, c, onEvents));
  await Promise.all(channels.map((ch) => ch.create(key)));
  // Puts are sent as requester number `watchers` (the connection after the last watcher's, round-robin).
  const putKv = ctx.kv(watchers);
  const limiter = new RateLimiter(options.putRate);
  const progress = createProgress(options.total, ctx.options.progress);
  const cpu = new CpuMeter();
  report.start();
  try {
    for (let i = 0; i < options.total; i++) {
      await limiter.wait();
      const value = new Uint8Array(options.valSize);
      new DataView(value.buffer).setUint32(0, i);
      current = i;
      received = 0;
      const delivered = new Promise<void>((resolve) => {
        allReceived = resolve;
      });
      putStartMs[i] = performance.now();
      try {
        await putKv.put({ key, value });
      } catch (err) {
        for (let w = 0; w < watchers; w++) report.recordError(errorMessage(err));
        progress.increment();
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        delivered.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), EVENT_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        for (let w = received; w < watchers; w++) report.recordError("watch event not received within 10s");
      }
      progress.increment();
    }
  } finally {
    current = -1;
    for (const ch of channels) ch.close();
  }
  const stats = report.finish();
  const clientCpu = cpu.stop();
  progress.stop();
  return {
    command: "watch-latency",
    endpoints: ctx.endpoints,
    conns: ctx.options.conns,
    clients: watchers,
    sections: [{ stats }],
    clientCpu,
  };
}
