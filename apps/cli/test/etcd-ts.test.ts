/**
 * etcdctl-ts against an etcd-ts member (apps/server/dist/main.js): the read-only outputs equal Debian
 * etcdctl's against the same member, and the etcdctl-ts additions (auth status, check perf, snapshot status of
 * an etcd-ts snapshot, completion) work.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, type Member, startMember, tempDir } from "../../server/test/harness.js";
import { cliMain } from "./compat-harness.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function ts(endpoint: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cliMain, `--endpoints=${endpoint}`, "--dial-timeout=5s", "--command-timeout=10s", ...args],
      { env: { ...process.env, ETCDCTL_API: "3" }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

let member: Member;
let dir: string;

beforeAll(async () => {
  dir = tempDir("cli");
  member = await startMember({ dataDir: path.join(dir, "data") });
}, 60_000);

afterAll(async () => {
  await member?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("etcdctl-ts on etcd-ts", () => {
  it("prints what Debian etcdctl prints for the same reads", async () => {
    const ep = member.endpoint;
    expect((await ts(ep, ["put", "k/1", "v1"])).stdout).toBe("OK\n");
    expect((await ts(ep, ["put", "k/2"], "from stdin")).stdout).toBe("OK\n");
    for (const args of [
      ["get", "--prefix", "k/"],
      ["get", "--prefix", "k/", "-w", "json"],
      ["get", "k/1", "-w", "fields"],
      ["--hex", "get", "k/2"],
      ["member", "list", "-w", "json"],
      ["member", "list", "-w", "table"],
      ["alarm", "list"],
      ["endpoint", "hashkv"],
      ["user", "list"],
      ["get", "--rev", "999", "k/1"],
    ]) {
      const [mine, theirs] = await Promise.all([ts(ep, args), etcdctl(ep, args)]);
      const clean = (s: string) => s.replace(/"ts":"[^"]*"/g, "").replace(/client-[0-9a-f-]+/g, "client");
      expect({ args, code: mine.code, stdout: mine.stdout, stderr: clean(mine.stderr) }).toEqual({
        args,
        code: theirs.code,
        stdout: theirs.stdout,
        stderr: clean(theirs.stderr),
      });
    }
  });

  it("runs a txn read from stdin", async () => {
    const r = await ts(member.endpoint, ["txn"], 'value("k/1") = "v1"\n\nput k/3 yes\n\nput k/3 no\n\n');
    expect(r).toEqual({ code: 0, stdout: "SUCCESS\n\nOK\n", stderr: "" });
  });

  it("auth status reports etcd-ts's auth state", async () => {
    const r = await ts(member.endpoint, ["auth", "status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Authentication Status: false\nAuthRevision: \d+\n$/);
  });

  it("saves a snapshot that snapshot status reads like etcdctl does", async () => {
    const file = path.join(dir, "snap.db");
    const saved = await ts(member.endpoint, ["snapshot", "save", file]);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toBe(`Snapshot saved at ${file}\n`);
    const [mine, theirs] = await Promise.all([
      ts(member.endpoint, ["snapshot", "status", file, "-w", "json"]),
      etcdctl(member.endpoint, ["snapshot", "status", file, "-w", "json"]),
    ]);
    expect(mine.stdout).toBe(theirs.stdout);
  });

  it("check perf writes, judges and cleans up its prefix", async () => {
    const r = await ts(member.endpoint, ["check", "perf", "--duration", "2", "--prefix", "/perf-test/"]);
    expect(r.stdout).toMatch(/(PASS|FAIL): Throughput (is|too low:) \d+ writes\/s\n/);
    expect(r.stdout).toMatch(/\n(PASS|FAIL)\n$/);
    expect(r.code).toBe(r.stdout.endsWith("\nPASS\n") ? 0 : 1);
    expect((await ts(member.endpoint, ["get", "--prefix", "/perf-test/", "--keys-only"])).stdout).toBe("");
  });

  it("prints completion scripts and completes commands and flags", async () => {
    expect((await ts(member.endpoint, ["completion", "bash"])).stdout).toContain(
      "complete -o default -F _etcdctl_ts etcdctl-ts",
    );
    expect((await ts(member.endpoint, ["completion", "zsh"])).stdout).toContain("#compdef etcdctl-ts");
    expect((await ts(member.endpoint, ["__complete", "--", "lease", "k"])).stdout).toBe("keep-alive\n");
    expect((await ts(member.endpoint, ["__complete", "--", "get", "--pre"])).stdout).toBe("--prefix\n");
  });

  it("--help shows examples", async () => {
    const r = await ts(member.endpoint, ["get", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("EXAMPLES:\n\tetcdctl-ts get foo");
  });
});
