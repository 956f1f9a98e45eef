import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, freePort, type Member, mainJs, startMember, tempDir } from "./harness.js";

// `etcd-ts snapshot restore` seeds a new etcd-ts member from a file saved by `etcdctl snapshot save`, from a
// real etcd 3.4 and from etcd-ts alike. The same workload runs against both sources; each snapshot is
// restored into a fresh data dir, an etcd-ts member starts on it, and what it serves (keys with their
// revisions, history after the compaction, leases, users, roles, auth on, HashKV) must equal the source.

const ROOT = ["--user", "root:rootpw"];
const MANY_KEYS = 300;

interface Source {
  endpoint: string;
  stop(): Promise<void>;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { ...process.env, ETCDCTL_API: "3" }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const restoreCli = (args: string[]) => run(process.execPath, [mainJs, "snapshot", "restore", ...args]);

/** startEtcd starts Debian's etcd 3.4 on free ports with its own data dir (ended only by its PID). */
async function startEtcd(dataDir: string): Promise<Source> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const peer = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(
    "/usr/bin/etcd",
    [
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      `http://127.0.0.1:${clientPort}`,
      "--advertise-client-urls",
      `http://127.0.0.1:${clientPort}`,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      `default=${peer}`,
    ],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpoint = `127.0.0.1:${clientPort}`;
  for (let i = 0; ; i++) {
    if ((await etcdctl(endpoint, ["endpoint", "health"])).code === 0) break;
    if (i > 100) throw new Error("etcd did not become healthy");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill();
      await exited;
    },
  };
}

async function ok(endpoint: string, args: string[], input?: string): Promise<string> {
  const res = await etcdctl(endpoint, args, input);
  if (res.code !== 0) throw new Error(`etcdctl ${args.join(" ")} failed: ${res.stderr}`);
  return res.stdout;
}

/**
 * workload writes the same history to a source: overwrites and a delete before a compaction, then new keys
 * (many, to need branch pages, and one larger than a page), a lease with a key, users and roles, auth on.
 * Keys written before the compaction are not touched after it (see the HashKV note below).
 */
async function workload(endpoint: string): Promise<{ lease: string; compactRevision: number }> {
  await ok(endpoint, ["put", "/a", "1"]);
  await ok(endpoint, ["put", "/a", "2"]);
  await ok(endpoint, ["put", "/b", "1"]);
  await ok(endpoint, ["put", "/c", "1"]);
  await ok(endpoint, ["del", "/c"]);
  const compactRevision = JSON.parse(await ok(endpoint, ["get", "/a", "-w", "json"])).header
    .revision as number;
  await ok(endpoint, ["compact", String(compactRevision)]);
  const lease = /lease ([0-9a-f]+) granted/.exec(await ok(endpoint, ["lease", "grant", "600"]))?.[1];
  if (lease === undefined) throw new Error("no lease id");
  await ok(endpoint, ["put", "/leased", "x", `--lease=${lease}`]);
  await ok(endpoint, ["put", "/e", "1"]);
  await ok(endpoint, ["put", "/e", "2"]);
  await ok(endpoint, ["del", "/e"]);
  const url = `http://${endpoint}/v3/kv/put`;
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  for (let i = 0; i < MANY_KEYS; i++) {
    const res = await fetch(url, {
      method: "POST",
      body: JSON.stringify({ key: b64(`/many/${String(i).padStart(4, "0")}`), value: b64(`value ${i}`) }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  await ok(endpoint, ["put", "/big", "v".repeat(10_000)]);
  await ok(endpoint, ["user", "add", "root:rootpw"]);
  await ok(endpoint, ["role", "add", "reader"]);
  await ok(endpoint, ["role", "grant-permission", "reader", "read", "/many/", "--prefix"]);
  await ok(endpoint, ["user", "add", "alice:alicepw"]);
  await ok(endpoint, ["user", "grant-role", "alice", "reader"]);
  await ok(endpoint, ["auth", "enable"]);
  return { lease, compactRevision };
}

/** observe collects what a member serves, as comparable plain data (ids and member fields dropped). */
async function observe(endpoint: string, lease: string, revision: number) {
  const ctl = (args: string[]) => ok(endpoint, [...ROOT, ...args]);
  const all = JSON.parse(await ctl(["get", "", "--from-key", "-w", "json"]));
  const ttl = JSON.parse(await ctl(["lease", "timetolive", lease, "--keys", "-w", "json"]));
  const hash = JSON.parse(await ctl(["endpoint", "hashkv", `--rev=${revision}`, "-w", "json"]))[0].HashKV;
  return {
    revision: all.header.revision as number,
    kvs: all.kvs as unknown[],
    history: (await ctl(["get", "/e", `--rev=${revision - MANY_KEYS - 2}`])).trim(),
    compacted: (await etcdctl(endpoint, [...ROOT, "get", "/a", "--rev=2"])).stderr.includes("compacted"),
    leases: (await ctl(["lease", "list"])).trim(),
    lease: { grantedTTL: ttl["granted-ttl"] as number, keys: ttl.keys as string[] },
    users: (await ctl(["user", "list"])).trim(),
    alice: (await ctl(["user", "get", "alice"])).trim(),
    reader: (await ctl(["role", "get", "reader"])).trim(),
    roles: (await ctl(["role", "list"])).trim(),
    // Auth is on: no user, no read; alice reads only /many/.
    anonymous: (await etcdctl(endpoint, ["get", "/a"])).code,
    aliceMany: (
      await ok(endpoint, ["--user", "alice:alicepw", "get", "/many/0001", "--print-value-only"])
    ).trim(),
    aliceDenied: (await etcdctl(endpoint, ["--user", "alice:alicepw", "get", "/a"])).stderr.includes(
      "permission denied",
    ),
    hash: { hash: hash.hash as number, compact_revision: hash.compact_revision as number },
  };
}

for (const kind of ["etcd 3.4", "etcd-ts"] as const) {
  describe(`etcd-ts snapshot restore from a ${kind} snapshot`, () => {
    const base = tempDir("restore-src");
    let source: Source | undefined;
    let restored: Member | undefined;
    let snapshot = "";
    let expected: Awaited<ReturnType<typeof observe>>;
    let lease = "";

    beforeAll(async () => {
      if (kind === "etcd 3.4") {
        source = await startEtcd(path.join(base, "etcd"));
      } else {
        const member = await startMember({ dataDir: path.join(base, "etcd-ts") });
        source = { endpoint: member.endpoint, stop: () => member.stop() };
      }
      const w = await workload(source.endpoint);
      lease = w.lease;
      const revision = JSON.parse(await ok(source.endpoint, [...ROOT, "get", "/a", "-w", "json"])).header
        .revision as number;
      expected = await observe(source.endpoint, lease, revision);
      expect(expected.revision).toBe(revision);
      expect(expected.hash.compact_revision).toBe(w.compactRevision);
      snapshot = path.join(base, "snapshot.db");
      await ok(source.endpoint, [...ROOT, "snapshot", "save", snapshot]);
      await source.stop();
    }, 120_000);

    afterAll(async () => {
      await restored?.stop();
      await source?.stop();
      fs.rmSync(base, { recursive: true, force: true });
    });

    it("restores into a data dir an etcd-ts member serves the same data from", async () => {
      const dataDir = path.join(base, "restored");
      const peer = `http://127.0.0.1:${await freePort()}`;
      const res = await restoreCli([
        snapshot,
        "--data-dir",
        dataDir,
        "--name",
        "test",
        "--initial-cluster",
        `test=${peer}`,
        "--initial-cluster-token",
        "restored-cluster",
        "--initial-advertise-peer-urls",
        peer,
      ]);
      expect(res.stderr).toContain("entries (100%)"); // plain progress lines when not on a terminal
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`revision ${expected.revision}`);
      expect(res.stdout).toContain("1 leases, 2 users, 2 roles");

      restored = await startMember({
        dataDir,
        args: [
          "--listen-peer-urls",
          peer,
          "--initial-advertise-peer-urls",
          peer,
          "--initial-cluster",
          `test=${peer}`,
        ],
      });
      const got = await observe(restored.endpoint, lease, expected.revision);
      // HashKV equals the source's at the same revision: the key bucket was copied byte for byte. (etcd 3.4
      // filters revisions at or below the compaction through the keys' state AT the hash revision; the
      // workload leaves no key written before the compaction changed after it, where etcd-ts differs.)
      expect(got).toEqual(expected);
      expect(got.history).toBe("/e\n2");
      expect(got.compacted).toBe(true);
      expect(got.lease).toEqual({ grantedTTL: 600, keys: [Buffer.from("/leased").toString("base64")] });
      expect(got.kvs).toHaveLength(MANY_KEYS + 4);

      // A new cluster: new ids, one member (the old ones dropped), named and addressed by the flags.
      const members = JSON.parse(await ok(restored.endpoint, [...ROOT, "member", "list", "-w", "json"]));
      expect(members.members).toHaveLength(1);
      expect(members.members[0].name).toBe("test");
      expect(members.members[0].peerURLs).toEqual([peer]);
      // It takes writes and keeps counting revisions from the snapshot's.
      const put = JSON.parse(await ok(restored.endpoint, [...ROOT, "put", "/after", "1", "-w", "json"]));
      expect(put.header.revision).toBe(expected.revision + 1);
    });

    // One source is enough for the cluster case (the restore path after reading the file is the same).
    if (kind === "etcd 3.4")
      it("seeds a three-member cluster: each member restores with its own name, all serve the same data", async () => {
        const names = ["m1", "m2", "m3"];
        const peers = await Promise.all(names.map(async () => `http://127.0.0.1:${await freePort()}`));
        const clients = await Promise.all(names.map(async () => `http://127.0.0.1:${await freePort()}`));
        const initial = names.map((n, i) => `${n}=${peers[i]}`).join(",");
        const common = ["--initial-cluster", initial, "--initial-cluster-token", "seeded"];
        const ids = new Set<string>();
        for (const [i, name] of names.entries()) {
          const res = await restoreCli([
            snapshot,
            "--data-dir",
            path.join(base, `cluster-${name}`),
            "--name",
            name,
            "--initial-advertise-peer-urls",
            peers[i] as string,
            ...common,
          ]);
          expect(res.code, res.stderr).toBe(0);
          ids.add(/of new cluster ([0-9a-f]+)/.exec(res.stdout)?.[1] ?? "");
        }
        expect(ids.size).toBe(1); // every member computed the same cluster id
        const children = names.map((name, i) =>
          spawn(
            process.execPath,
            [
              mainJs,
              "--name",
              name,
              "--data-dir",
              path.join(base, `cluster-${name}`),
              "--listen-client-urls",
              clients[i] as string,
              "--advertise-client-urls",
              clients[i] as string,
              "--listen-peer-urls",
              peers[i] as string,
              "--initial-advertise-peer-urls",
              peers[i] as string,
              "--log-level",
              "warn",
              ...common,
            ],
            { stdio: ["ignore", "pipe", "pipe"] },
          ),
        );
        // Each member's output is kept so that a cluster that never forms says why.
        const outputs = children.map(() => "");
        for (const [i, child] of children.entries()) {
          const keep = (d: Buffer) => {
            outputs[i] = (outputs[i] + d.toString()).slice(-20_000);
          };
          child.stdout?.on("data", keep);
          child.stderr?.on("data", keep);
        }
        const diagnosis = () =>
          children
            .map(
              (c, i) => `--- ${names[i]} (exit ${c.exitCode ?? c.signalCode ?? "running"}):\n${outputs[i]}`,
            )
            .join("\n");
        const exited = children.map((c) => new Promise<void>((resolve) => c.once("exit", () => resolve())));
        try {
          const endpoints = clients.map((c) => c.replace("http://", ""));
          const hashes = async () =>
            Promise.all(
              endpoints.map(async (e) => {
                const res = await etcdctl(e, [
                  ...ROOT,
                  "endpoint",
                  "hashkv",
                  `--rev=${expected.revision}`,
                  "-w",
                  "json",
                ]);
                return res.code === 0 ? (JSON.parse(res.stdout)[0].HashKV.hash as number) : undefined;
              }),
            );
          let got: Array<number | undefined> = [];
          const deadline = Date.now() + 60_000;
          for (;;) {
            got = await hashes();
            if (got.every((h) => h !== undefined) || Date.now() > deadline) break;
            if (children.some((c) => c.exitCode !== null)) break;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          expect(got).toEqual([expected.hash.hash, expected.hash.hash, expected.hash.hash]);
          const members = JSON.parse(
            await ok(endpoints[0] as string, [...ROOT, "member", "list", "-w", "json"]),
          );
          expect(members.members.map((m: { name: string }) => m.name).sort()).toEqual(names);
          // A write through one member is read back from another.
          await ok(endpoints[0] as string, [...ROOT, "put", "/written-after-restore", "yes"]);
          const read = await ok(endpoints[2] as string, [
            ...ROOT,
            "get",
            "/written-after-restore",
            "--print-value-only",
          ]);
          expect(read.trim()).toBe("yes");
          expect(
            (await ok(endpoints[1] as string, [...ROOT, "get", "/many/0299", "--print-value-only"])).trim(),
          ).toBe("value 299");
        } catch (err) {
          throw new Error(`${String(err)}\n${diagnosis()}`);
        } finally {
          for (const child of children)
            if (child.exitCode === null && child.signalCode === null) child.kill();
          await Promise.all(exited);
        }
      }, 150_000);

    it("refuses a corrupted snapshot with a clear error and leaves no data dir", async () => {
      const bytes = fs.readFileSync(snapshot);
      bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] as number) ^ 0x55;
      const corrupted = path.join(base, "corrupted.db");
      fs.writeFileSync(corrupted, bytes);
      const dataDir = path.join(base, "never");
      const res = await restoreCli([corrupted, "--data-dir", dataDir]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(
        /snapshot restore: snapshot file is corrupted: expected sha256 [0-9a-f]{64}, got/,
      );
      expect(fs.existsSync(dataDir)).toBe(false);
      expect(fs.readdirSync(base).filter((n) => n.includes("restoring"))).toEqual([]);
      // A file with the trailer cut off is refused unless the hash check is skipped.
      fs.writeFileSync(corrupted, fs.readFileSync(snapshot).subarray(0, -32));
      expect((await restoreCli([corrupted, "--data-dir", dataDir])).stderr).toContain(
        "snapshot missing hash",
      );
      expect((await restoreCli([corrupted, "--data-dir", dataDir, "--skip-hash-check"])).code).toBe(0);
      expect((await restoreCli([corrupted, "--data-dir", dataDir, "--skip-hash-check"])).stderr).toContain(
        "is not empty",
      );
    });
  });
}
