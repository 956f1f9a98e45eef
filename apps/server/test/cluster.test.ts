import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { makeCerts } from "./certs.js";
import {
  type ClusterMember,
  gateway,
  hashKv,
  keys,
  put,
  removeDir,
  sleep,
  status,
  TestCluster,
  WriteLoad,
} from "./cluster-harness.js";
import { etcdctl, httpsStatus, mainJs, tempDir } from "./harness.js";

const execFileAsync = promisify(execFile);

// Real etcd-ts processes on loopback. Election timeout 1 s (etcd's default), heartbeat 100 ms.
const electionMs = 1000;
const clusters: TestCluster[] = [];
afterAll(async () => {
  for (const cluster of clusters) await cluster.stop();
});

/**
 * reconfigure runs an etcdctl membership command, retrying while etcd's strict reconfiguration check says
 * the cluster is unhealthy (a voter connected for less than 5 s, e.g. just restarted), as an operator would.
 */
async function reconfigure(endpoint: string, args: string[]) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await etcdctl(endpoint, args);
    if (!res.stderr.includes("etcdserver: unhealthy cluster") || Date.now() > deadline) return res;
    await sleep(250);
  }
}

async function expectSameData(
  cluster: TestCluster,
  members: ClusterMember[],
  acked: Set<string>,
  prefix: string,
) {
  const hashes = await cluster.waitConverged(members);
  expect(new Set(hashes).size, `hashes ${hashes.join(",")}`).toBe(1);
  for (const member of members) {
    const present = await keys(member, prefix);
    const lost = [...acked].filter((k) => !present.has(k));
    expect(lost, `acknowledged writes missing on ${member.name}`).toEqual([]);
  }
}

/** killLeaderUnderLoad: kill -9 the leader while writers run; a new leader must lead within 3 election timeouts. */
async function killLeaderUnderLoad(cluster: TestCluster, prefix: string) {
  const leader = await cluster.waitForLeader(cluster.running());
  const load = new WriteLoad(() => cluster.running(), prefix, 4);
  await sleep(700);
  const killedAt = Date.now();
  await cluster.kill(leader, "SIGKILL");
  const survivors = cluster.running();
  const next = await cluster.waitForLeader(survivors, 10 * electionMs);
  const elapsed = Date.now() - killedAt;
  expect(next.name).not.toBe(leader.name);
  expect(elapsed, "a new leader within 3 election timeouts").toBeLessThan(3 * electionMs);
  // Writes keep being acknowledged under the new leader.
  const atElection = load.acknowledged.size;
  const deadline = Date.now() + 15_000;
  while (load.acknowledged.size < atElection + 10 && Date.now() < deadline) await sleep(50);
  await load.stop();
  expect(load.acknowledged.size).toBeGreaterThanOrEqual(atElection + 10);
  cluster.restart(leader);
  await cluster.waitForLeader(cluster.running());
  await expectSameData(cluster, cluster.running(), load.acknowledged, prefix);
}

describe("a 3-member cluster", () => {
  let cluster: TestCluster;

  it("forms, serves writes through every member and agrees on the data", async () => {
    cluster = await TestCluster.start({
      baseDir: tempDir("cluster3"),
      size: 3,
      args: ["--snapshot-count", "200", "--snapshot-catchup-entries", "20"],
    });
    clusters.push(cluster);
    for (const member of cluster.members) expect(await put(member, `via/${member.name}`, "x")).toBe(true);
    const list = await etcdctl(cluster.members[0]!.clientUrl, ["member", "list", "-w", "json"]);
    expect(list.code, list.stderr).toBe(0);
    const members = JSON.parse(list.stdout).members as Array<{ name: string; clientURLs: string[] }>;
    expect(members.map((m) => m.name).sort()).toEqual(["m1", "m2", "m3"]);
    expect(members.every((m) => m.clientURLs.length === 1)).toBe(true);
    await expectSameData(cluster, cluster.members, new Set(["via/m1", "via/m2", "via/m3"]), "via/");
  });

  it("accepts on every member an auth token that one member issued", async () => {
    const [m1, m2, m3] = cluster.members as [ClusterMember, ClusterMember, ClusterMember];
    for (const step of [
      ["user", "add", "root", "--new-user-password=rootpw"],
      ["auth", "enable"],
    ]) {
      const res = await etcdctl(m1.clientUrl, step);
      expect(res.code, res.stderr).toBe(0);
    }
    const { token } = await gateway(m1, "auth/authenticate", { name: "root", password: "rootpw" });
    for (const member of [m2, m3]) {
      const res = await fetch(`${member.clientUrl}/v3/kv/put`, {
        method: "POST",
        headers: { authorization: token },
        body: JSON.stringify({ key: Buffer.from(`auth/${member.name}`).toString("base64"), value: "eA==" }),
      });
      expect(res.status, await res.text()).toBe(200);
    }
    const disable = await etcdctl(m3.clientUrl, ["auth", "disable", "--user=root:rootpw"]);
    expect(disable.code, disable.stderr).toBe(0);
  });

  it("moves the leadership to another voter (move-leader)", async () => {
    const leader = await cluster.waitForLeader(cluster.members);
    const target = cluster.members.find((m) => m !== leader)!;
    const targetId = BigInt((await status(target)).memberId).toString(16);
    const endpoints = cluster.members.map((m) => m.clientUrl).join(",");
    const moved = await etcdctl(endpoints, ["move-leader", targetId]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`Leadership transferred from`);
    expect((await cluster.waitForLeader(cluster.members)).name).toBe(target.name);
    const bad = await etcdctl(target.clientUrl, ["move-leader", "1234"]);
    expect(bad.stderr).toContain("etcdserver: bad leader transferee");
  });

  it("serves linearizable reads on every member at once (endpoint health --cluster)", async () => {
    // etcdctl reads the "health" key on every member concurrently; each member's read index request must
    // carry a context no other member uses, or the leader keeps only one of them and the others time out.
    for (let round = 0; round < 3; round++) {
      const health = await etcdctl(cluster.members[0]!.clientUrl, [
        "endpoint",
        "health",
        "--cluster",
        "--command-timeout=3s",
      ]);
      expect(health.code, health.stdout + health.stderr).toBe(0);
      // etcdctl 3.4 prints the verdicts on stderr.
      expect(health.stderr.match(/is healthy/g)).toHaveLength(3);
    }
  });

  it("survives kill -9 of the leader under write load without losing an acknowledged write", async () => {
    await killLeaderUnderLoad(cluster, "load1/");
  });

  it("adds a member that catches up by snapshot, and a learner that is promoted once in sync", async () => {
    // Enough writes that the log behind the snapshot is compacted: the newcomer must get a snapshot.
    const first = cluster.members[0]!;
    for (let i = 0; i < 250; i++) await put(first, `bulk/${i}`, "v");
    const m4 = await cluster.plan("m4");
    const add = await reconfigure(first.clientUrl, ["member", "add", "m4", `--peer-urls=${m4.peerUrl}`]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    cluster.joinStart(m4, ["--log-level", "info"]);
    await cluster.waitForLeader(cluster.running());
    await cluster.waitConverged(cluster.running());
    expect(m4.output).toContain("received a snapshot");
    expect((await keys(m4, "bulk/")).size).toBe(250);

    const m5 = await cluster.plan("m5");
    const addLearner = await reconfigure(first.clientUrl, [
      "member",
      "add",
      "m5",
      `--peer-urls=${m5.peerUrl}`,
      "--learner",
    ]);
    expect(addLearner.code, addLearner.stderr).toBe(0);
    const m5Id = /Member ([0-9a-f]+) added/.exec(addLearner.stdout)?.[1];
    expect(m5Id).toBeDefined();
    // A second learner is over --max-learners (1).
    const tooMany = await reconfigure(first.clientUrl, [
      "member",
      "add",
      "m6",
      "--peer-urls=http://127.0.0.1:1",
      "--learner",
    ]);
    expect(tooMany.stderr).toContain("etcdserver: too many learner members in cluster");
    cluster.joinStart(m5);
    await cluster.waitConverged(cluster.running());
    expect((await status(m5)).isLearner).toBe(true);
    // A learner serves serializable reads only. It refuses the others with Unavailable, as etcd does, so
    // that clients retry them elsewhere (etcdctl, with one endpoint, retries until its command timeout).
    const linearizable = await etcdctl(m5.clientUrl, ["get", "bulk/1", "--command-timeout=2s"]);
    expect(linearizable.stderr).toContain(
      "code = Unavailable desc = etcdserver: rpc not supported for learner",
    );
    const serializable = await etcdctl(m5.clientUrl, [
      "get",
      "bulk/1",
      "--consistency=s",
      "--print-value-only",
    ]);
    expect(serializable.stdout.trim()).toBe("v");
    // Promote through a follower (forwarded to the leader, which checks the learner is in sync).
    const leader = await cluster.waitForLeader(cluster.running());
    const follower = cluster.running().find((m) => m !== leader && m !== m5)!;
    const promote = await reconfigure(follower.clientUrl, ["member", "promote", m5Id!]);
    expect(promote.code, promote.stderr).toBe(0);
    expect(promote.stdout).toContain(`Member ${m5Id} promoted`);
    const again = await etcdctl(follower.clientUrl, ["member", "promote", m5Id!]);
    expect(again.stderr).toContain("etcdserver: can only promote a learner member");
    expect((await status(m5)).isLearner).toBe(false);
  });

  it("removes members (back to 3) and refuses unknown ids", async () => {
    const first = cluster.members[0]!;
    for (const name of ["m4", "m5"]) {
      const member = cluster.members.find((m) => m.name === name)!;
      const id = BigInt((await status(member)).memberId).toString(16);
      const removed = await reconfigure(first.clientUrl, ["member", "remove", id]);
      expect(removed.code, removed.stderr).toBe(0);
      await cluster.forget(member);
    }
    const unknown = await etcdctl(first.clientUrl, ["member", "remove", "1234"]);
    expect(unknown.stderr).toContain("etcdserver: member not found");
    const list = JSON.parse((await etcdctl(first.clientUrl, ["member", "list", "-w", "json"])).stdout);
    expect(list.members.length).toBe(3);
    await cluster.waitForLeader(cluster.running());
  });

  it("replaces a member whose data dir was wiped (remove, add, start empty)", async () => {
    const victim = cluster.members[2]!;
    const first = cluster.members[0]!;
    const id = BigInt((await status(victim)).memberId).toString(16);
    await cluster.forget(victim);
    removeDir(victim.dataDir);
    await cluster.waitForLeader(cluster.running());
    const removed = await reconfigure(first.clientUrl, ["member", "remove", id]);
    expect(removed.code, removed.stderr).toBe(0);
    const fresh = await cluster.plan("m3b");
    const add = await reconfigure(first.clientUrl, ["member", "add", "m3b", `--peer-urls=${fresh.peerUrl}`]);
    expect(add.code, add.stderr).toBe(0);
    cluster.joinStart(fresh);
    await cluster.waitForLeader(cluster.running());
    const hashes = await cluster.waitConverged(cluster.running());
    expect(new Set(hashes).size).toBe(1);
    expect((await keys(fresh, "bulk/")).size).toBe(250);
  });

  it("rebuilds a damaged member from its peers with one command (tools/cluster/rebuild-member.mjs)", async () => {
    const damaged = cluster.members[1]!;
    await cluster.kill(damaged);
    await cluster.waitForLeader(cluster.running());
    const script = path.resolve(path.dirname(mainJs), "../../../tools/cluster/rebuild-member.mjs");
    const args = [
      script,
      "--endpoints",
      cluster
        .running()
        .map((m) => m.clientUrl)
        .join(","),
      "--name",
      damaged.name,
      "--data-dir",
      damaged.dataDir,
      "--peer-urls",
      damaged.peerUrl,
      "--client-urls",
      damaged.clientUrl,
      "--print-only",
      "--",
      "--log-level",
      "warn",
    ];
    const { stdout } = await execFileAsync(process.execPath, args, { timeout: 30_000 });
    expect(stdout).toContain("removing member");
    expect(stdout).toContain("moved the old data dir to");
    const aside = fs
      .readdirSync(path.dirname(damaged.dataDir))
      .filter((f) => f.startsWith(`${damaged.name}.damaged-`));
    expect(aside.length).toBe(1);
    const command = JSON.parse(`[${stdout.trim().split("\n").at(-1)!.split(" ").join(",")}]`) as string[];
    expect(command).toContain("existing");
    cluster.spawnArgv(damaged, command.slice(1));
    await cluster.waitForLeader(cluster.running());
    const hashes = await cluster.waitConverged(cluster.running());
    expect(new Set(hashes).size).toBe(1);
    expect((await keys(damaged, "bulk/")).size).toBe(250);
  });
});

describe("a 3-member cluster with mutual TLS between peers", () => {
  it("forms over https peer URLs, replicates, and refuses peers without the right client certificate", async () => {
    const certs = makeCerts(tempDir("peer-certs"));
    // The members' certificate says CN=127.0.0.1; only that CN may connect to a peer port.
    const cluster = await TestCluster.start({
      baseDir: tempDir("peer-tls"),
      size: 3,
      peerTlsDir: certs.dir,
      args: ["--peer-cert-allowed-cn", "127.0.0.1"],
    });
    clusters.push(cluster);
    expect(cluster.members[0]!.peerUrl.startsWith("https://")).toBe(true);
    for (const member of cluster.members) expect(await put(member, `tls/${member.name}`, "x")).toBe(true);
    const hashes = await cluster.waitConverged(cluster.members);
    expect(new Set(hashes).size).toBe(1);
    // The peer port asks for a client certificate signed by the peer CA: plain TLS without one fails.
    const url = `${cluster.members[0]!.listenPeerUrl}/`;
    const refused = await httpsStatus(url, { ca: certs.ca }).then(
      (code) => `answered ${code}`,
      (err: Error) => err.message,
    );
    expect(refused).not.toMatch(/^answered/);
    // A certificate from the right CA but with another CN (alice) is refused too.
    const otherCn = await httpsStatus(url, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
    expect(otherCn).toBe(403);
  });
});

describe("a 3-member cluster behind TCP proxies", () => {
  it("partitions the leader away: the rest elect a new leader and keep writing; healing reconciles", async () => {
    const cluster = await TestCluster.start({ baseDir: tempDir("partition"), size: 3, behindProxies: true });
    clusters.push(cluster);
    const oldLeader = await cluster.waitForLeader(cluster.members);
    cluster.proxies.get(oldLeader.name)!.pause();
    const rest = cluster.members.filter((m) => m !== oldLeader);
    // The majority elects a new leader and accepts writes.
    const newLeader = await cluster.waitForLeader(rest, 10 * electionMs);
    expect(newLeader.name).not.toBe(oldLeader.name);
    const acked = new Set<string>();
    for (let i = 0; i < 20; i++) if (await put(rest[i % 2]!, `part/${i}`, "v")) acked.add(`part/${i}`);
    expect(acked.size).toBe(20);
    // The isolated old leader steps down (check-quorum) and cannot acknowledge writes.
    await sleep(2 * electionMs);
    expect((await status(oldLeader)).leader).not.toBe((await status(oldLeader)).memberId);
    expect(await put(oldLeader, "part/isolated", "v", 1500)).toBe(false);
    // Heal.
    cluster.proxies.get(oldLeader.name)!.resume();
    await cluster.waitForLeader(cluster.members);
    const hashes = await cluster.waitConverged(cluster.members);
    expect(new Set(hashes).size).toBe(1);
    const present = await keys(oldLeader, "part/");
    expect([...acked].every((k) => present.has(k))).toBe(true);
  });
});

describe("a 5-member cluster", () => {
  it("survives kill -9 of the leader under write load, then of a second member", async () => {
    const cluster = await TestCluster.start({ baseDir: tempDir("cluster5"), size: 5 });
    clusters.push(cluster);
    await killLeaderUnderLoad(cluster, "load5/");
    // Two members down: three of five are still a quorum.
    const [a, b] = cluster.running().slice(0, 2);
    await cluster.kill(a!);
    await cluster.kill(b!);
    const survivors = cluster.running();
    await cluster.waitForLeader(survivors, 10 * electionMs);
    expect(await put(survivors[0]!, "after-two-down", "v")).toBe(true);
    const hash = await Promise.all(survivors.map((m) => hashKv(m)));
    await cluster.waitConverged(survivors);
    expect(hash.length).toBe(3);
    const res = await gateway(survivors[2]!, "kv/range", {
      key: Buffer.from("after-two-down").toString("base64"),
    });
    expect(res.count).toBe("1");
    // A third member down: no quorum. The rest lose their leader and say so instead of accepting writes.
    await cluster.kill(survivors[0]!);
    const last = cluster.running();
    const deadline = Date.now() + 10 * electionMs;
    let noLeader = "";
    while (Date.now() < deadline && !noLeader.includes("etcdserver: no leader")) {
      noLeader = (await etcdctl(last[0]!.clientUrl, ["put", "no-quorum", "v", "--command-timeout=2s"]))
        .stderr;
    }
    expect(noLeader).toContain("etcdserver: no leader");
    const health = await fetch(`${last[0]!.clientUrl}/health`);
    expect(health.status).toBe(503);
  });
});
