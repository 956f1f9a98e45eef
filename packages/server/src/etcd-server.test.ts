import fs from "node:fs";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Cluster, KV, Lease, Maintenance, PutRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { tempDir } from "@etcd-ts/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "./config.js";
import { EtcdServer } from "./etcd-server.js";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

const running: EtcdServer[] = [];

async function startServer(
  dataDir: string,
  overrides: Partial<ReturnType<typeof defaultConfig>> = {},
): Promise<{
  server: EtcdServer;
  kv: ReturnType<typeof createClient<typeof KV>>;
  lease: ReturnType<typeof createClient<typeof Lease>>;
  cluster: ReturnType<typeof createClient<typeof Cluster>>;
}> {
  const config = {
    ...defaultConfig("test"),
    dataDir,
    listenClientUrls: ["http://127.0.0.1:0"],
    listenPeerUrls: ["http://127.0.0.1:0"],
    initialAdvertisePeerUrls: ["http://127.0.0.1:0"],
    advertiseClientUrls: ["http://127.0.0.1:0"],
    heartbeatIntervalMs: 20,
    electionTimeoutMs: 200,
    logLevel: "error" as const,
    ...overrides,
  };
  const server = new EtcdServer(config, {
    onFatal: (err) => {
      throw err;
    },
  });
  await server.start();
  running.push(server);
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.clientPorts[0]}` });
  const kv = createClient(KV, transport);
  const lease = createClient(Lease, transport);
  const cluster = createClient(Cluster, transport);
  // Wait until the single member leads.
  for (let i = 0; i < 200 && !server.isLeader; i++) await new Promise((r) => setTimeout(r, 10));
  expect(server.isLeader).toBe(true);
  return { server, kv, lease, cluster };
}

afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
});

describe("EtcdServer (one member, in process)", () => {
  it("serves puts and linearizable reads with etcd's header, and keeps data across a restart", async () => {
    const dir = tempDir("server");
    const first = await startServer(dir);
    const put = await first.kv.put(create(PutRequestSchema, { key: utf8("a"), value: utf8("1") }));
    expect(put.header?.revision).toBe(2n);
    expect(put.header?.memberId).toBe(first.server.memberId);
    expect(put.header?.clusterId).toBe(first.server.clusterId);
    await first.kv.put({ key: utf8("a"), value: utf8("2") });
    await first.kv.put({ key: utf8("b"), value: utf8("3") });
    const got = await first.kv.range({ key: utf8("a") });
    expect(text(got.kvs[0]?.value)).toBe("2");
    expect(got.kvs[0]?.version).toBe(2n);
    const granted = await first.lease.leaseGrant({ TTL: 600n });
    await first.kv.put({ key: utf8("leased"), value: utf8("x"), lease: granted.ID });
    const memberId = first.server.memberId;
    await first.server.stop();
    running.length = 0;

    const second = await startServer(dir);
    expect(second.server.memberId).toBe(memberId);
    const after = await second.kv.range({ key: utf8("a"), rangeEnd: utf8("c") });
    expect(after.kvs.map((kv) => text(kv.value))).toEqual(["2", "3"]);
    expect(after.header?.revision).toBe(5n);
    // The lease and its key survive the restart, still attached.
    const ttl = await second.lease.leaseTimeToLive({ ID: granted.ID, keys: true });
    expect(ttl.grantedTTL).toBe(600n);
    expect(ttl.keys.map((k) => text(k))).toEqual(["leased"]);
    await second.lease.leaseRevoke({ ID: granted.ID });
    expect((await second.kv.range({ key: utf8("leased") })).kvs).toHaveLength(0);
    const next = await second.kv.put({ key: utf8("c"), value: utf8("4") });
    expect(next.header?.revision).toBe(7n);
    // History survives too.
    const old = await second.kv.range({ key: utf8("a"), revision: 2n });
    expect(text(old.kvs[0]?.value)).toBe("1");
  });

  it("snapshots the raft log, releases the WAL, and restarts from the snapshot", async () => {
    const dir = tempDir("server");
    const first = await startServer(dir, { snapshotCount: 10 });
    for (let i = 0; i < 45; i++) await first.kv.put({ key: utf8(`s${i % 7}`), value: utf8(`v${i}`) });
    const snaps = fs.readdirSync(path.join(dir, "member", "snap")).filter((f) => f.endsWith(".snap"));
    expect(snaps.length).toBeGreaterThan(0);
    await first.server.stop();
    running.length = 0;

    const second = await startServer(dir, { snapshotCount: 10 });
    const all = await second.kv.range({ key: utf8("s"), rangeEnd: utf8("t") });
    expect(all.kvs).toHaveLength(7);
    expect(text(all.kvs.find((kv) => text(kv.key) === "s2")?.value)).toBe("v44");
    expect(all.header?.revision).toBe(46n);
    const next = await second.kv.put({ key: utf8("after"), value: utf8("x") });
    expect(next.header?.revision).toBe(47n);
  });

  it("answers bad requests with etcd's codes and messages", async () => {
    const dir = tempDir("server");
    const { kv, lease } = await startServer(dir);
    const failure = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        return ConnectError.from(err);
      }
      throw new Error("expected an error");
    };
    const empty = await failure(kv.put({ key: new Uint8Array(), value: utf8("x") }));
    expect(empty.code).toBe(Code.InvalidArgument);
    expect(empty.rawMessage).toBe("etcdserver: key is not provided");

    const future = await failure(kv.range({ key: utf8("a"), revision: 1000n }));
    expect(future.code).toBe(Code.OutOfRange);
    expect(future.rawMessage).toBe("etcdserver: mvcc: required revision is a future revision");

    const noLease = await failure(kv.put({ key: utf8("a"), value: utf8("x"), lease: 12345n }));
    expect(noLease.code).toBe(Code.NotFound);
    expect(noLease.rawMessage).toBe("etcdserver: requested lease not found");

    const tooBig = await failure(lease.leaseGrant({ TTL: 9_000_000_001n }));
    expect(tooBig.code).toBe(Code.OutOfRange);
    expect(tooBig.rawMessage).toBe("etcdserver: too large lease TTL");

    const ops = Array.from({ length: 129 }, (_, i) => ({
      request: { case: "requestPut" as const, value: { key: utf8(`k${i}`), value: utf8("v") } },
    }));
    const tooMany = await failure(kv.txn({ success: ops }));
    expect(tooMany.code).toBe(Code.InvalidArgument);
    expect(tooMany.rawMessage).toBe("etcdserver: too many operations in txn request");
  });

  it("revokes a lease's keys in one revision, and answers with that revision", async () => {
    const dir = tempDir("server");
    const { kv, lease } = await startServer(dir);
    const granted = await lease.leaseGrant({ TTL: 60n });
    await kv.put({ key: utf8("l1"), value: utf8("x"), lease: granted.ID });
    await kv.put({ key: utf8("l2"), value: utf8("x"), lease: granted.ID });
    const before = (await kv.range({ key: utf8("z") })).header?.revision ?? 0n;
    const revoked = await lease.leaseRevoke({ ID: granted.ID });
    // The answer carries the revision of the deletion, as etcd's does (found by tools/robustness: it
    // carried the revision before it).
    expect(revoked.header?.revision).toBe(before + 1n);
    const after = await kv.range({ key: utf8("l"), rangeEnd: utf8("m") });
    expect(after.kvs).toHaveLength(0);
    expect(after.header?.revision).toBe(before + 1n);
    // Nothing to delete: the revision stays.
    const empty = await lease.leaseGrant({ TTL: 60n });
    expect(empty.header?.revision).toBe(before + 1n);
    expect((await lease.leaseRevoke({ ID: empty.ID })).header?.revision).toBe(before + 1n);
    const ttl = await lease.leaseTimeToLive({ ID: granted.ID });
    expect(ttl.TTL).toBe(-1n);
  });

  it("applies membership changes back to back while a learner that never started exists", async () => {
    // Adding a member makes the apply take a raft snapshot; raft must already count that conf change as
    // applied when the next one is proposed, or it refuses it silently and the proposer times out.
    const dir = tempDir("server");
    const { server, cluster } = await startServer(dir);
    const self = (await cluster.memberList({})).members[0];
    expect(self?.ID).toBe(server.memberId);
    const learnerUrl = "http://127.0.0.1:1"; // never started, never reachable
    const started = Date.now();
    for (let round = 0; round < 3; round++) {
      const added = await cluster.memberAdd({ peerURLs: [learnerUrl], isLearner: true });
      const learnerId = added.member?.ID ?? 0n;
      expect(added.members).toHaveLength(2);
      const updated = await cluster.memberUpdate({ ID: learnerId, peerURLs: ["http://127.0.0.1:2"] });
      expect(updated.members.find((m) => m.ID === learnerId)?.peerURLs).toEqual(["http://127.0.0.1:2"]);
      await cluster.memberUpdate({ ID: server.memberId, peerURLs: self?.peerURLs ?? [] });
      const removed = await cluster.memberRemove({ ID: learnerId });
      expect(removed.members.map((m) => m.ID)).toEqual([server.memberId]);
    }
    // Each change applies at once (a refused one would wait out the 5 s request timeout).
    expect(Date.now() - started).toBeLessThan(4000);
    // The removed members' markers go to etcd's members_removed bucket of a snapshot, not into members.
    const maintenance = createClient(
      Maintenance,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.clientPorts[0]}` }),
    );
    let bytes = 0;
    for await (const chunk of maintenance.snapshot({})) bytes += chunk.blob.length;
    expect(bytes).toBeGreaterThan(0);
  });

  it("refuses to promote a learner that never started as not in sync, before the started-members check", async () => {
    const dir = tempDir("server");
    const { cluster } = await startServer(dir);
    const added = await cluster.memberAdd({ peerURLs: ["http://127.0.0.1:1"], isLearner: true });
    const promote = await cluster.memberPromote({ ID: added.member?.ID ?? 0n }).catch((err: unknown) => err);
    expect(promote).toBeInstanceOf(ConnectError);
    expect((promote as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((promote as ConnectError).rawMessage).toBe(
      "etcdserver: can only promote a learner member which is in sync with leader",
    );
  });
});
