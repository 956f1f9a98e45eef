import { randomBytes } from "node:crypto";
import type { Event } from "@etcd-ts/proto/mvccpb";
import type { BenchContext } from "../bench-context.js";
import { runClosedLoop } from "../closed-loop.js";
import { CpuMeter } from "../cpu-meter.js";
import { UsageError } from "../errors.js";
import type { BenchResult } from "../options.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rate-limiter.js";
import { Report } from "../report.js";
import { WatchChannel } from "../watch-channel.js";

/** WatchOptions are the flags of `watch` (etcd 3.4's names and defaults). */
export interface WatchOptions {
  /** Watch streams, spread over the connections (10) */
  readonly streams: number;
  /** watchers per stream (100) */
  readonly watchPerStream: number;
  /** distinct watched keys; watcher w watches key w % watchedKeyTotal (1) */
  readonly watchedKeyTotal: number;
  /** puts to the watched keys (1000), by `--clients` requesters */
  readonly putTotal: number;
  /** puts per second, 0 = no limit (0) */
  readonly putRate: number;
  /** key size (32, at least 8) */
  readonly keySize: number;
  /** value size (32, at least 4: the value carries the put's number) */
  readonly valSize: number;
}

/** DEFAULT_WATCH_OPTIONS are the defaults of `watch`. */
export const DEFAULT_WATCH_OPTIONS: WatchOptions = {
  streams: 10,
  watchPerStream: 100,
  watchedKeyTotal: 1,
  putTotal: 1000,
  putRate: 0,
  keySize: 32,
  valSize: 32,
};

/** How long delivery may stall (no event at all) after the last put before missing events count as lost. */
const EVENT_STALL_TIMEOUT_MS = 10_000;

/**
 * runWatch measures watch fan-out: it creates streams x watchPerStream watchers over watchedKeyTotal keys
 * ("Watch creation summary": create-to-created latency), then puts to those keys ("Put summary"), and
 * reports every event a watcher receives with its put-to-event latency ("Watch events summary"), plus the
 * events delivered per second from the first put to the last event.
 */
export async function runWatch(ctx: BenchContext, options: WatchOptions): Promise<BenchResult> {
  if (options.keySize < 8) throw new UsageError(`expected --key-size >= 8, got (${options.keySize})`);
  if (options.valSize < 4) throw new UsageError(`expected --val-size >= 4, got (${options.valSize})`);
  if (options.watchedKeyTotal < 1) {
    throw new UsageError(`expected positive --watched-key-total, got (${options.watchedKeyTotal})`);
  }
  const keys: Uint8Array[] = [];
  for (let k = 0; k < options.watchedKeyTotal; k++) keys.push(new Uint8Array(randomBytes(options.keySize)));
  const watchersPerKey = new Array<number>(options.watchedKeyTotal).fill(0);
  const totalWatchers = options.streams * options.watchPerStream;
  for (let w = 0; w < totalWatchers; w++) {
    const k = w % options.watchedKeyTotal;
    watchersPerKey[k] = (watchersPerKey[k] ?? 0) + 1;
  }

  const creation = new Report("watch-creation");
  const puts = new Report("watch-put");
  const events = new Report("watch-events");
  const putStartMs = new Float64Array(options.putTotal);
  let delivered = 0;
  let lastEventMs = 0;
  let progressMark: (() => void) | undefined;
  const onEvents = (_id: bigint, batch: readonly Event[], arrivedMs: number) => {
    for (const event of batch) {
      const value = event.kv?.value;
      if (value === undefined || value.length < 4) continue;
      const i = new DataView(value.buffer, value.byteOffset, 4).getUint32(0);
      if (i >= options.putTotal) continue;
      events.record(arrivedMs - putStartMs[i]!);
      delivered++;
    }
    lastEventMs = arrivedMs;
    progressMark?.();
  };

  const cpu = new CpuMeter();
  const channels: WatchChannel[] = [];
  for (let s = 0; s < options.streams; s++) channels.push(new WatchChannel(ctx, s, onEvents));
  try {
    const createProgressBar = createProgress(totalWatchers, ctx.options.progress);
    creation.start();
    await Promise.all(
      channels.map(async (channel, s) => {
        for (let j = 0; j < options.watchPerStream; j++) {
          const w = s * options.watchPerStream + j;
          const startMs = performance.now();
          await channel.create(keys[w % options.watchedKeyTotal]!);
          creation.record(performance.now() - startMs);
          createProgressBar.increment();
        }
      }),
    );
    createProgressBar.stop();
    const creationStats = creation.finish();

    let expected = 0;
    for (let i = 0; i < options.putTotal; i++) expected += watchersPerKey[i % options.watchedKeyTotal] ?? 0;
    const putProgress = createProgress(options.putTotal, ctx.options.progress);
    const firstPutMs = performance.now();
    puts.start();
    events.start();
    await runClosedLoop({
      total: options.putTotal,
      concurrency: ctx.options.clients,
      limiter: new RateLimiter(options.putRate),
      progress: putProgress,
      report: () => puts,
      operation: async (client, i) => {
        const value = new Uint8Array(options.valSize);
        new DataView(value.buffer).setUint32(0, i);
        putStartMs[i] = performance.now();
        try {
          return await ctx.kv(client).put({ key: keys[i % options.watchedKeyTotal]!, value });
        } catch (err) {
          // A failed put delivers no event; do not wait for its events.
          expected -= watchersPerKey[i % options.watchedKeyTotal] ?? 0;
          throw err;
        }
      },
    });
    putProgress.stop();
    const putStats = puts.finish();
    while (delivered < expected) {
      const before = delivered;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, EVENT_STALL_TIMEOUT_MS);
        progressMark = () => {
          if (delivered >= expected) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      progressMark = undefined;
      if (delivered === before) break;
    }
    for (let m = delivered; m < expected; m++) events.recordError("watch event not delivered");
    const eventStats = events.finish();
    const clientCpu = cpu.stop();
    const seconds = Math.max(1e-9, (lastEventMs - firstPutMs) / 1000);
    return {
      command: "watch",
      endpoints: ctx.endpoints,
      conns: ctx.options.conns,
      clients: ctx.options.clients,
      sections: [
        { title: "Watch creation summary:", stats: creationStats },
        { title: "Put summary:", stats: putStats },
        { title: "Watch events summary (put-to-event latency):", stats: eventStats },
      ],
      extra: {
        watchers: totalWatchers,
        eventsExpected: expected,
        eventsDelivered: delivered,
        eventsPerSecond: delivered / seconds,
      },
      clientCpu,
    };
  } finally {
    for (const ch of channels) ch.close();
  }
}
