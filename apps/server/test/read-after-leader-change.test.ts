import { afterAll, describe, expect, it } from "vitest";
import { b64, type ClusterMember, gateway, put, sleep, TestCluster } from "./cluster-harness.js";
import { tempDir } from "./harness.js";

// Real etcd-ts processes on loopback, with etcd's default timing (heartbeat 100 ms, election timeout 1 s).
// Every bound below is in election timeouts: etcd serves linearizable reads again within about one election
// timeout of a new leader, and before the fix a member waited out its request timeout (5 s + 2 election
// timeouts) for a read index answer that a dead or deposed leader would never send.
const electionMs = 1000;
/** HEALTHY_WITHIN_ELECTIONS is the requirement: every member serves linearizable reads this soon. */
const HEALTHY_WITHIN_ELECTIONS = 3;
/** READ_ATTEMPT_TIMEOUT_MS is longer than the server's request timeout, so a hung read shows as one. */
const READ_ATTEMPT_TIMEOUT_MS = 10_000;
/** GIVE_UP_MS bounds how long the test keeps retrying reads before it reports what it saw. */
const GIVE_UP_MS = 30_000;

const clusters: TestCluster[] = [];
afterAll(async () => {
  for (const cluster of clusters) await cluster.stop();
});

/**
 * firstLinearizableRead retries a linearizable range on `member` (as a client does: "leader changed" and
 * timeouts are retryable) and returns when the first one succeeded, with the errors seen before it.
 */
async function firstLinearizableRead(member: ClusterMember): Promise<{ at: number; errors: string[] }> {
  const errors: string[] = [];
  const giveUpAt = Date.now() + GIVE_UP_MS;
  while (Date.now() < giveUpAt) {
    try {
      await gateway(member, "kv/range", { key: b64("k") }, READ_ATTEMPT_TIMEOUT_MS);
      return { at: Date.now(), errors };
    } catch (err) {
      errors.push(`${Date.now()}: ${(err as Error).message.slice(0, 200)}`);
      await sleep(25);
    }
  }
  throw new Error(`${member.name} served no linearizable read in ${GIVE_UP_MS} ms: ${errors.join("; ")}`);
}

/** warm makes sure every member serves linearizable reads before the fault. */
/** expectServedSoon asserts that `member`'s first read succeeded within 3 election timeouts of `since`. */
async function expectServedSoon(
  member: ClusterMember,
  read: Promise<{ at: number; errors: string[] }>,
  since: number,
  event: string,
): Promise<void> {
  const { at, errors } = await read;
  expect(
    at - since,
    `${member.name} first read ${at - since} ms after ${event}; before: ${errors.join("; ")}`,
  ).toBeLessThan(HEALTHY_WITHIN_ELECTIONS * electionMs);
}

async function warm(cluster: TestCluster): Promise<void> {
  expect(await put(cluster.members[0]!, "k", "v")).toBe(true);
  for (const member of cluster.running()) await firstLinearizableRead(member);
}

describe("linearizable reads after a leader change", () => {
  it("kill -9 of the leader: the followers serve them within 3 election timeouts of the new leader", async () => {
    const cluster = await TestCluster.start({ baseDir: tempDir("read-failover-kill"), size: 3 });
    clusters.push(cluster);
    await warm(cluster);
    const leader = await cluster.waitForLeader(cluster.members);
    const followers = cluster.members.filter((m) => m !== leader);
    await cluster.kill(leader, "SIGKILL");
    // The reads start while the followers still believe in the dead leader (or have none).
    const reads = followers.map((m) => firstLinearizableRead(m));
    const next = await cluster.waitForLeader(followers, 10 * electionMs);
    const electedAt = Date.now();
    expect(next.name).not.toBe(leader.name);
    for (const [i, read] of reads.entries())
      await expectServedSoon(followers[i]!, read, electedAt, "the new leader");
  });

  it("SIGSTOP of the leader: the followers serve them within 3 election timeouts of the new leader", async () => {
    const cluster = await TestCluster.start({ baseDir: tempDir("read-failover-stop"), size: 3 });
    clusters.push(cluster);
    await warm(cluster);
    const leader = await cluster.waitForLeader(cluster.members);
    const pid = leader.process?.pid;
    expect(pid).toBeDefined();
    const followers = cluster.members.filter((m) => m !== leader);
    process.kill(pid!, "SIGSTOP");
    try {
      const reads = followers.map((m) => firstLinearizableRead(m));
      const next = await cluster.waitForLeader(followers, 10 * electionMs);
      const electedAt = Date.now();
      expect(next.name).not.toBe(leader.name);
      for (const [i, read] of reads.entries())
        await expectServedSoon(followers[i]!, read, electedAt, "the new leader");
    } finally {
      process.kill(pid!, "SIGCONT");
    }
  });

  it("a partitioned leader: a read asked for during the partition is served within 3 election timeouts of the heal", async () => {
    const cluster = await TestCluster.start({
      baseDir: tempDir("read-failover-partition"),
      size: 3,
      behindProxies: true,
    });
    clusters.push(cluster);
    await warm(cluster);
    const oldLeader = await cluster.waitForLeader(cluster.members);
    const proxy = cluster.proxies.get(oldLeader.name);
    expect(proxy).toBeDefined();
    proxy!.pause();
    const rest = cluster.members.filter((m) => m !== oldLeader);
    const next = await cluster.waitForLeader(rest, 10 * electionMs);
    expect(next.name).not.toBe(oldLeader.name);
    // The isolated member takes the read and asks raft for a read index that nobody can answer yet.
    const read = firstLinearizableRead(oldLeader);
    await sleep(electionMs / 2);
    proxy!.resume();
    const healedAt = Date.now();
    await expectServedSoon(oldLeader, read, healedAt, "the heal");
  });
});
