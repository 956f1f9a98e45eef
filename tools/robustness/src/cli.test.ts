import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type LoadFlags, loadOptions, parseDuration, runCli } from "./cli.js";
import { defaultRunOptions } from "./run.js";
import { defaultSoakOptions } from "./soak/soak.js";

describe("etcd-ts-robustness command line", () => {
  it("reads soak durations", () => {
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("250")).toBe(250);
    expect(() => parseDuration("soon")).toThrow(/bad duration/);
  });

  it("fills a run's and a soak's options from the same flags, each with its own load defaults", () => {
    const flags: LoadFlags = {
      target: "etcd",
      members: 5,
      qps: defaultRunOptions.qps,
      clients: defaultRunOptions.clients,
      keys: 4,
      watchers: 2,
      requestTimeoutMs: 700,
      heartbeatMs: 100,
      electionTimeoutMs: 1000,
      reportDir: "reports",
    };
    const none = () => false;
    const soak = loadOptions(flags, none, defaultSoakOptions);
    expect(soak).toMatchObject({ target: "etcd", members: 5, keys: 4, watchers: 2, reportDir: "reports" });
    expect([soak.qps, soak.clients]).toEqual([800, 16]); // the soak's own load, not the run defaults
    expect(soak.snapshotCount).toBe(defaultSoakOptions.snapshotCount);
    expect(soak.healthBudgetMs).toBe(3000); // 3 election timeouts
    const run = loadOptions(flags, none, defaultRunOptions);
    expect([run.qps, run.clients, run.snapshotCount]).toEqual([150, 8, defaultRunOptions.snapshotCount]);
    // Flags given on the command line win in both modes.
    const given = loadOptions(
      { ...flags, qps: 900, clients: 32, healthBudgetMs: 2000 },
      () => true,
      defaultSoakOptions,
    );
    expect([given.qps, given.clients, given.healthBudgetMs]).toEqual([900, 32, 2000]);
  });

  it("refuses bad input with exit code 2 before starting anything", async () => {
    const lines: string[] = [];
    const out = (line: string) => lines.push(line);
    expect(await runCli(["--soak", "1m", "--runs", "3"], out)).toBe(2);
    expect(lines.join("\n")).toMatch(/--soak and --runs do not go together/);
    expect(await runCli(["--faults", "meteor-strike"], out)).toBe(2);
    expect(await runCli(["--target", "zookeeper"], out)).toBe(2);
    expect(lines.join("\n")).toMatch(/--target is etcd-ts or etcd/);
  });

  it("checks a saved history again", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-robustness-check-"));
    const kv = { key: "a", value: "1", modRevision: 2, createRevision: 2, version: 1, lease: 0 };
    const put = {
      clientId: 0,
      call: 0,
      return: 10,
      input: { type: "put", key: "a", value: "1" },
      output: { type: "put", revision: 2 },
    };
    const read = (call: number, revision: number, kvs: unknown[]) => ({
      clientId: 1,
      call,
      return: call + 5,
      input: { type: "range", key: "a" },
      output: { type: "range", revision, kvs },
    });
    const lines: string[] = [];
    fs.writeFileSync(path.join(dir, "history.json"), JSON.stringify([put, read(20, 2, [kv])]));
    expect(await runCli(["check", dir], (l) => lines.push(l))).toBe(0);
    expect(lines.join("\n")).toMatch(/^ok: 2 operations/);
    // The same read answered with the state before the put: stale.
    fs.writeFileSync(path.join(dir, "history.json"), JSON.stringify([put, read(20, 1, [])]));
    expect(await runCli(["check", dir], (l) => lines.push(l))).toBe(1);
    expect(lines.join("\n")).toMatch(/illegal/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
