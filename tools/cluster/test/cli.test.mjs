// The CLI: `start` in the background records the member PIDs, `status` reports them healthy, `stop` ends
// exactly those PIDs. Free ports, so that it does not collide with a cluster on the Procfile ports.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { etcdctl } from "../etcdctl.mjs";
import { alive, readState } from "../state-file.mjs";
import { testKind } from "./test-kind.mjs";

const cli = resolve(fileURLToPath(import.meta.url), "..", "..", "cluster.mjs");

/**
 * run runs the CLI and returns its exit code and output.
 * @param {string[]} args
 * @returns {Promise<{code: number, stdout: string, stderr: string}>}
 */
function run(args) {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr });
    });
  });
}

describe(`etcd-ts-cluster CLI (kind ${testKind})`, () => {
  const dir = mkdtempSync(join(tmpdir(), "etcd-cluster-cli-"));
  /** @type {number[]} */
  let pids = [];
  after(async () => {
    // Should the test fail half-way: end the recorded members (by PID, through the CLI) and remove the dir.
    if (pids.some((p) => alive(p))) await run(["stop", "--dir", dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("start, status, add, kill, restart, remove, stop", async () => {
    const started = await run([
      "start",
      "--kind",
      testKind,
      "--dir",
      dir,
      "--ports",
      "free",
      "--log-level",
      "warn",
    ]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /cluster is healthy/);
    const state = readState(dir);
    assert.ok(state !== undefined);
    assert.deepEqual(
      state.members.map((m) => m.name),
      ["infra1", "infra2", "infra3"],
    );
    pids = state.members.map((m) => /** @type {number} */ (m.pid));
    for (const pid of pids) assert.ok(alive(pid), `pid ${pid} runs after start returned`);

    const endpoints = state.members.map((m) => m.clientUrl).join(",");
    const health = await etcdctl(["endpoint", "health", "--cluster"], { endpoints });
    assert.equal(health.code, 0, health.stderr);
    assert.equal(health.stderr.match(/is healthy/g)?.length, 3);

    const status = await run(["status", "--dir", dir, "--json"]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const report = JSON.parse(status.stdout);
    assert.equal(report.members.length, 3);
    assert.ok(report.members.every((/** @type {any} */ m) => m.state === "running" && m.health === "true"));
    assert.equal(report.members.filter((/** @type {any} */ m) => m.leader).length, 1);

    // Membership and crashes through the CLI: add a learner, kill and restart a member, remove the learner.
    const added = await run(["add", "--dir", dir, "--learner"]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^Member +[0-9a-f]+ added to cluster/m);
    const withLearner = readState(dir);
    assert.equal(withLearner?.members.length, 4);
    const learner = withLearner?.members[3];
    assert.equal(learner?.name, "infra4");
    assert.equal(learner?.config?.initialClusterState, "existing");
    assert.ok(learner?.pid !== undefined && alive(learner.pid));
    pids.push(learner.pid);

    const victim = /** @type {number} */ (pids[1]);
    const killed = await run(["kill", "infra2", "--dir", dir]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, /infra2 \(pid \d+\): ended by SIGKILL/);
    assert.equal(alive(victim), false);
    assert.equal((await run(["status", "--dir", dir])).code, 3);
    const restarted = await run(["restart", "infra2", "--dir", dir]);
    assert.equal(restarted.code, 0, restarted.stderr);
    const newPid = readState(dir)?.members[1]?.pid;
    assert.ok(newPid !== undefined && newPid !== victim && alive(newPid));
    pids[1] = newPid;

    const removed = await run(["remove", "infra4", "--dir", dir]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^Member +[0-9a-f]+ removed from cluster/m);
    assert.equal(alive(learner.pid), false);
    assert.deepEqual(
      readState(dir)?.members.map((m) => m.name),
      ["infra1", "infra2", "infra3"],
    );
    const healthy = await etcdctl(["endpoint", "health", "--cluster"], { endpoints });
    assert.equal(healthy.code, 0, healthy.stderr);

    const again = await run(["start", "--kind", testKind, "--dir", dir, "--ports", "free"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already running/);

    const stopped = await run(["stop", "--dir", dir]);
    assert.equal(stopped.code, 0, stopped.stderr);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still alive after stop`);
    assert.equal(stopped.stdout.match(/: (stopped|killed)$/gm)?.length, 3);

    const after = await run(["status", "--dir", dir, "--json"]);
    assert.equal(after.code, 3);
    assert.ok(JSON.parse(after.stdout).members.every((/** @type {any} */ m) => m.state === "stopped"));
  });
});
