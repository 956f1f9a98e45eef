import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDuration, runCli } from "./cli.js";

describe("etcd-ts-robustness command line", () => {
  it("reads soak durations", () => {
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("250")).toBe(250);
    expect(() => parseDuration("soon")).toThrow(/bad duration/);
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
