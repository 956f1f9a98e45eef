import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BenchContext } from "../src/bench-context.js";
import { errorMessage } from "../src/closed-loop.js";
import { runLeaseKeepalive } from "../src/commands/lease-keepalive.js";
import { runPut } from "../src/commands/put.js";
import { runRange } from "../src/commands/range.js";
import { runStm } from "../src/commands/stm.js";
import { runTxnMixed } from "../src/commands/txn-mixed.js";
import { runTxnPut } from "../src/commands/txn-put.js";
import { runWatch } from "../src/commands/watch.js";
import { runWatchLatency } from "../src/commands/watch-latency.js";
import { parseEndpoints } from "../src/endpoints.js";
import type { BenchResult, GlobalOptions } from "../src/options.js";
import type { ReportStats } from "../src/report.js";
import { startServer, type TestServer } from "./servers.js";

const mainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist/main.js");

function expectStats(stats: ReportStats, count: number): void {
  expect(stats.errors).toEqual({});
  expect(stats.count).toBe(count);
  expect(stats.totalSeconds).toBeGreaterThan(0);
  expect(stats.requestsPerSecond).toBeGreaterThan(0);
  expect(stats.fastestSeconds).toBeGreaterThan(0);
  expect(stats.fastestSeconds).toBeLessThanOrEqual(stats.averageSeconds);
  expect(stats.averageSeconds).toBeLessThanOrEqual(stats.slowestSeconds);
  expect(stats.percentiles.map((p) => p.percent)).toEqual([10, 25, 50, 75, 90, 95, 99, 99.9]);
  for (let i = 1; i < stats.percentiles.length; i++) {
    expect(stats.percentiles[i]!.seconds).toBeGreaterThanOrEqual(stats.percentiles[i - 1]!.seconds);
  }
  expect(stats.histogram).toHaveLength(11);
  expect(stats.histogram.reduce((a, b) => a + b.count, 0)).toBe(count);
}

function expectResult(result: BenchResult, command: string, conns: number, clients: number): void {
  expect(result.command).toBe(command);
  expect(result.conns).toBe(conns);
  expect(result.clients).toBe(clients);
  expect(result.clientCpu.cpuSeconds).toBeGreaterThan(0);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [mainJs, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}

describe.each(["etcd-ts", "etcd"] as const)("every subcommand against a single %s member", (kind) => {
  let server: TestServer;
  let ctx: BenchContext;
  const options: GlobalOptions = {
    endpoints: [],
    conns: 2,
    clients: 8,
    targetLeader: true,
    transport: "lean",
    progress: false,
  };

  beforeAll(async () => {
    server = await startServer(kind);
    ctx = await BenchContext.open({ ...options, endpoints: parseEndpoints(server.endpoint) });
  });
  afterAll(async () => {
    ctx?.close();
    await server?.stop();
  });

  it("put", async () => {
    const result = await runPut(ctx, {
      total: 200,
      keySize: 8,
      valSize: 16,
      rate: 0,
      keySpaceSize: 50,
      sequentialKeys: true,
    });
    expectResult(result, "put", 2, 8);
    expectStats(result.sections[0]!.stats, 200);
    // sequential keys over a space of 50: every key exists now
    const range = await ctx
      .kv(0)
      .range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), countOnly: true });
    expect(range.count).toBeGreaterThanOrEqual(50n);
  });

  it("range, linearizable and serializable", async () => {
    for (const consistency of ["l", "s"] as const) {
      const result = await runRange(ctx, {
        key: "\u0000",
        endRange: "",
        total: 200,
        rate: 0,
        consistency,
        limit: 0,
        countOnly: false,
      });
      expect(result.preamble).toBe(
        `bench with ${consistency === "l" ? "linearizable" : "serializable"} range`,
      );
      expectStats(result.sections[0]!.stats, 200);
    }
  });

  it("txn-put", async () => {
    const result = await runTxnPut(ctx, {
      total: 200,
      keySize: 8,
      valSize: 8,
      txnOps: 3,
      rate: 0,
      keySpaceSize: 30,
    });
    expectResult(result, "txn-put", 2, 8);
    expectStats(result.sections[0]!.stats, 200);
  });

  it("txn-mixed reports reads and writes apart", async () => {
    const result = await runTxnMixed(ctx, {
      key: "",
      endRange: "",
      total: 200,
      rate: 0,
      keySize: 8,
      valSize: 8,
      keySpaceSize: 20,
      consistency: "s",
      limit: 10,
      rwRatio: 1,
    });
    const [reads, writes] = result.sections;
    expect(reads!.stats.count + writes!.stats.count).toBe(200);
    expect(reads!.title).toBe(`Total Read Ops: ${reads!.stats.count}\nDetails:`);
    expect(writes!.title).toBe(`Total Write Ops: ${writes!.stats.count}\nDetails:`);
    expect(reads!.stats.errors).toEqual({});
    expect(writes!.stats.errors).toEqual({});
  });

  it("lease-keepalive", async () => {
    const result = await runLeaseKeepalive(ctx, { total: 200, rate: 0 });
    expectResult(result, "lease-keepalive", 2, 8);
    expectStats(result.sections[0]!.stats, 200);
  });

  it("stm", async () => {
    const result = await runStm(ctx, {
      total: 100,
      keys: 4,
      keysPerTxn: 2,
      txnWrPercent: 50,
      isolation: "r",
      valSize: 8,
      rate: 0,
    });
    expectStats(result.sections[0]!.stats, 100);
    expect(result.extra?.conflicts).toBeGreaterThanOrEqual(0);
  });

  it("watch: every event reaches every watcher", async () => {
    const result = await runWatch(ctx, {
      streams: 4,
      watchPerStream: 25,
      watchedKeyTotal: 10,
      putTotal: 200,
      putRate: 0,
      keySize: 32,
      valSize: 32,
    });
    const [creation, puts, events] = result.sections;
    expect(creation!.title).toBe("Watch creation summary:");
    expectStats(creation!.stats, 100);
    expect(puts!.title).toBe("Put summary:");
    expectStats(puts!.stats, 200);
    // 100 watchers over 10 keys: 10 watchers per key, 200 puts -> 2000 events
    expectStats(events!.stats, 2000);
    expect(result.extra).toMatchObject({ watchers: 100, eventsExpected: 2000, eventsDelivered: 2000 });
    expect(result.extra?.eventsPerSecond).toBeGreaterThan(0);
  });

  it("watch-latency: one sample per watcher and put", async () => {
    const result = await runWatchLatency(ctx, { total: 40, putRate: 1000, keySize: 32, valSize: 32 });
    expectStats(result.sections[0]!.stats, 40 * 8);
  });

  it("a failed call surfaces etcd's error code and message through the lean transport", async () => {
    const err = await ctx
      .kv(0)
      .put({ key: new Uint8Array(), value: new Uint8Array([1]) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toBe("etcdserver: key is not provided");
    expect(errorMessage(err)).toBe(
      "rpc error: code = InvalidArgument desc = etcdserver: key is not provided",
    );
  });

  it("the CLI prints etcd's text report, and --json", async () => {
    const text = await cli([
      "--endpoints",
      server.endpoint,
      "--conns",
      "1",
      "--clients",
      "4",
      "put",
      "--total",
      "200",
      "--key-space-size",
      "100",
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^\nSummary:\n {2}Total:\t\d+\.\d{4} secs\.\n {2}Slowest:\t\d+\.\d{4} secs\.\n {2}Fastest:\t\d+\.\d{4} secs\.\n {2}Average:\t\d+\.\d{4} secs\.\n {2}Stddev:\t\d+\.\d{4} secs\.\n {2}Requests\/sec:\t\d+\.\d{4}\n\nResponse time histogram:\n/,
    );
    expect(text.stdout).toContain("\nLatency distribution:\n  10% in ");
    expect(text.stderr).toMatch(/client CPU: /);

    const json = await cli([
      "--endpoints",
      server.endpoint,
      "--json",
      "range",
      "foo",
      "--total",
      "50",
      "--consistency",
      "s",
    ]);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as BenchResult;
    expect(result.command).toBe("range");
    expect(result.preamble).toBe("bench with serializable range");
    expect(result.sections[0]!.stats.count).toBe(50);
  });

  it("the CLI rejects a bad flag like etcd's benchmark", async () => {
    const bad = await cli(["--endpoints", server.endpoint, "put", "--key-space-size", "0", "--total", "1"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("expected positive --key-space-size, got (0)");
  });
});
