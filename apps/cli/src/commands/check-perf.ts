/**
 * `check perf`: writes at a fixed rate from many concurrent clients for a while, then judges throughput,
 * slowest request and latency spread the way etcdctl does (PASS/FAIL lines, exit 1 on FAIL). On a terminal
 * it draws a progress bar on stderr.
 */

import { prefixEnd } from "@etcd-ts/client";
import { KV } from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec } from "../command.js";
import { ExitCode, ExitError } from "../errors.js";
import { utf8 } from "../key-range.js";
import { line } from "../output.js";
import { startProgress } from "../progress.js";
import { failWith } from "../session.js";
import { compactAndDefrag } from "./compact-defrag.js";

/** PerfLoad is one workload model of etcdctl's check perf. */
interface PerfLoad {
  /** writesPerSecond is the target rate. */
  writesPerSecond: number;
  clients: number;
  durationSeconds: number;
}

const LOADS: Record<string, PerfLoad> = {
  s: { writesPerSecond: 150, clients: 50, durationSeconds: 60 },
  m: { writesPerSecond: 1000, clients: 200, durationSeconds: 60 },
  l: { writesPerSecond: 8000, clients: 500, durationSeconds: 60 },
  xl: { writesPerSecond: 15000, clients: 1000, durationSeconds: 60 },
};
const ALIASES: Record<string, string> = {
  s: "s",
  small: "s",
  m: "m",
  medium: "m",
  l: "l",
  large: "l",
  xl: "xl",
  xLarge: "xl",
};
const KEY_BYTES = 256;
const VALUE_BYTES = 1024;

/** putVarint writes Go's zig-zag varint of `v` at the start of `buf`. */
function putVarint(buf: Uint8Array, v: bigint): void {
  let ux = BigInt.asUintN(64, v << 1n);
  if (v < 0n) ux = BigInt.asUintN(64, ~ux);
  let i = 0;
  while (ux >= 0x80n) {
    buf[i++] = Number(ux & 0x7fn) | 0x80;
    ux >>= 7n;
  }
  buf[i] = Number(ux);
}

/** checkPerf is the `check perf` command. */
export const checkPerf: CommandSpec = {
  name: "perf",
  use: "perf [options]",
  short: "Check the performance of the etcd cluster",
  flags: [
    {
      name: "auto-compact",
      kind: "bool",
      defaultValue: false,
      usage: "Compact storage with last revision after test is finished.",
    },
    {
      name: "auto-defrag",
      kind: "bool",
      defaultValue: false,
      usage: "Defragment storage after test is finished.",
    },
    {
      name: "load",
      kind: "string",
      defaultValue: "s",
      usage:
        "The performance check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)",
    },
    {
      name: "prefix",
      kind: "string",
      defaultValue: "/etcdctl-check-perf/",
      usage: "The prefix for writing the performance check's keys.",
    },
    {
      name: "duration",
      kind: "int",
      defaultValue: 0n,
      usage: "etcdctl-ts: run this many seconds instead of the model's 60",
      hidden: true,
    },
  ],
  examples: ["etcdctl-ts check perf", "etcdctl-ts check perf --load=m --auto-compact --auto-defrag"],
  async run(ctx) {
    const model = ALIASES[ctx.flag<string>("load")];
    const base = model === undefined ? undefined : LOADS[model];
    if (base === undefined)
      throw new ExitError(ExitCode.badFeature, `unknown load option ${ctx.flag<string>("load")}`);
    const load =
      ctx.flag<bigint>("duration") > 0n
        ? { ...base, durationSeconds: Number(ctx.flag<bigint>("duration")) }
        : base;
    const s = ctx.session;
    const prefix = ctx.flag<string>("prefix");
    const pfx = utf8(prefix);
    const existing = await s
      .unary(
        (ep, call) => ep.client(KV).range({ key: pfx, rangeEnd: prefixEnd(pfx), countOnly: true }, call),
        { safe: true },
      )
      .catch((e: unknown) => failWith(e));
    if (existing.count > 0n) {
      throw new ExitError(
        ExitCode.invalidInput,
        `prefix ${JSON.stringify(prefix)} has keys. Delete with etcdctl del --prefix ${prefix} first`,
      );
    }
    const value = new Uint8Array(VALUE_BYTES);
    const latencies: number[] = [];
    const errors = new Map<string, number>();
    const started = Date.now();
    const endAt = started + load.durationSeconds * 1000;
    const bar = startProgress(s.io.isTTY, "check perf", load.durationSeconds, "s");
    const ticker = setInterval(
      () => bar.update(Math.min(load.durationSeconds, Math.round((Date.now() - started) / 1000))),
      1000,
    );
    const intervalMs = 1000 / load.writesPerSecond;
    let next = started;
    const issue = async (): Promise<void> => {
      const key = new Uint8Array(KEY_BYTES);
      putVarint(key, BigInt(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER)));
      const fullKey = new Uint8Array([...pfx, ...key]);
      const t0 = process.hrtime.bigint();
      try {
        await s.unary((ep, call) => ep.client(KV).put({ key: fullKey, value }, call), { timeoutMs: 0 });
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e9);
      } catch (err) {
        errors.set((err as Error).message, (errors.get((err as Error).message) ?? 0) + 1);
      }
    };
    const inflight = new Set<Promise<void>>();
    while (Date.now() < endAt) {
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      next += intervalMs;
      if (inflight.size >= load.clients) await Promise.race(inflight);
      const p = issue().finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
    const elapsedSeconds = (Date.now() - started) / 1000;
    clearInterval(ticker);
    bar.update(load.durationSeconds);
    bar.stop();
    const del = await s
      .unary((ep, call) => ep.client(KV).deleteRange({ key: pfx, rangeEnd: prefixEnd(pfx) }, call), {
        timeoutMs: 30_000,
      })
      .catch((e: unknown) => failWith(e));
    await compactAndDefrag(s, ctx.flag("auto-compact"), ctx.flag("auto-defrag"), del.header?.revision ?? 0n);
    const rps = latencies.length / elapsedSeconds;
    const slowest = latencies.length === 0 ? 0 : Math.max(...latencies);
    const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
    const stddev = Math.sqrt(
      latencies.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, latencies.length),
    );
    let ok = true;
    if (errors.size > 0) {
      line(s, "FAIL: too many errors");
      for (const [k, v] of errors) line(s, `FAIL: ERROR(${k}) -> ${v}`);
      ok = false;
    }
    if (rps / load.writesPerSecond <= 0.9) {
      line(s, `FAIL: Throughput too low: ${Math.floor(rps) + 1} writes/s`);
      ok = false;
    } else line(s, `PASS: Throughput is ${Math.floor(rps) + 1} writes/s`);
    if (slowest > 0.5) {
      line(s, `Slowest request took too long: ${slowest.toFixed(6)}s`);
      ok = false;
    } else line(s, `PASS: Slowest request took ${slowest.toFixed(6)}s`);
    if (stddev > 0.1) {
      line(s, `FAIL: Stddev too high: ${stddev.toFixed(6)}s`);
      ok = false;
    } else line(s, `PASS: Stddev is ${stddev.toFixed(6)}s`);
    if (!ok) {
      line(s, "FAIL");
      throw new ExitError(ExitCode.error, "");
    }
    line(s, "PASS");
  },
};

/** check is the `check` command group. */
export const check: CommandSpec = {
  name: "check",
  use: "check <subcommand>",
  short: "commands for checking properties of the etcd cluster",
  examples: ["etcdctl-ts check perf --load=s"],
  subcommands: [checkPerf],
};
