import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, freePort, type Member, startMember, tempDir } from "./harness.js";

const run = (file: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      file,
      args,
      { env: { ...process.env, ETCDCTL_API: "3" }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }),
    );
  });

// An etcd-ts snapshot is a bbolt file in etcd's layout: etcdctl reads it, and a real etcd restored from it
// serves the same keys and leases.
describe("snapshot save -> real etcd restore", () => {
  let member: Member;
  beforeAll(async () => {
    member = await startMember({ dataDir: tempDir("snap-src") });
  }, 30_000);
  afterAll(async () => {
    await member?.stop();
  });

  it("restores into Debian's etcd with the same keys, revision and leases", async () => {
    const ctl = (args: string[]) => etcdctl(member.endpoint, args);
    await ctl(["put", "/m/a", "1"]);
    await ctl(["put", "/m/a", "2"]);
    await ctl(["put", "/m/b", "3"]);
    const lease = /lease ([0-9a-f]+) granted/.exec(
      (await ctl(["lease", "grant", "600"])).stdout,
    )?.[1] as string;
    await ctl(["put", "/m/leased", "x", `--lease=${lease}`]);
    const file = path.join(tempDir("snap"), "etcd-ts.db");
    expect((await ctl(["snapshot", "save", file])).code).toBe(0);
    const status = JSON.parse((await run("etcdctl", ["snapshot", "status", file, "-w", "json"])).stdout);
    expect(status.revision).toBe(5);

    const restored = path.join(tempDir("restored"), "data");
    const restore = await run("etcdctl", ["snapshot", "restore", file, "--data-dir", restored]);
    expect(restore.code).toBe(0);
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const etcd = spawn(
      "etcd",
      [
        "--data-dir",
        restored,
        "--listen-client-urls",
        `http://127.0.0.1:${clientPort}`,
        "--advertise-client-urls",
        `http://127.0.0.1:${clientPort}`,
        "--listen-peer-urls",
        `http://127.0.0.1:${peerPort}`,
      ],
      { stdio: "ignore" },
    );
    try {
      const endpoint = `127.0.0.1:${clientPort}`;
      let got = "";
      for (let i = 0; i < 100 && got === ""; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        got = (await etcdctl(endpoint, ["get", "/m/", "--prefix"])).stdout;
      }
      expect(got).toBe("/m/a\n2\n/m/b\n3\n/m/leased\nx\n");
      expect((await etcdctl(endpoint, ["lease", "list"])).stdout).toContain(lease);
      const json = JSON.parse((await etcdctl(endpoint, ["get", "/m/a", "-w", "json"])).stdout);
      expect(json.kvs[0].version).toBe(2);
      expect(json.header.revision).toBe(5);
    } finally {
      if (etcd.pid !== undefined) process.kill(etcd.pid);
    }
  }, 90_000);
});
