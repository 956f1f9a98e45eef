// Partitions through the peer proxies of a real etcd cluster: a member cut off both ways loses the leader and
// cannot serve linearizable reads while the others keep writing; healed, it catches up.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCluster } from "../index.mjs";
import { eventually } from "./eventually.mjs";
import { testKind } from "./test-kind.mjs";

describe(`partitions through peer proxies (${testKind})`, () => {
  /** @type {import("../index.mjs").Cluster} */
  let cluster;
  before(async () => {
    cluster = await startCluster({ kind: testKind, size: 3, peerProxies: true });
  });
  after(async () => {
    await cluster?.cleanup();
  });

  it("members advertise their proxy and listen on their own port", async () => {
    for (const m of cluster.members) {
      assert.ok(m.proxy !== undefined);
      assert.equal(m.peerUrl, m.proxy.url);
      assert.notEqual(m.peerUrl, m.listenPeerUrl);
      assert.equal(m.proxy.target, m.config.peerPort);
    }
    const list = await cluster.etcdctl(["member", "list"]);
    for (const m of cluster.members) assert.ok(list.stdout.includes(`, ${m.name}, ${m.proxy?.url}, `));
    assert.ok(cluster.members.every((m) => (m.proxy?.stats.forwarded ?? 0) > 0));
  });

  it("isolate cuts a follower off both ways; heal lets it catch up", async () => {
    const leader = await cluster.waitLeader();
    const follower = cluster.members.find((m) => m !== leader);
    assert.ok(follower !== undefined);
    const others = cluster.members.filter((m) => m !== follower);
    const majority = others.map((m) => m.clientUrl).join(",");

    cluster.isolate(follower.name);
    // The follower notices it has no leader: linearizable reads fail there.
    await eventually("the isolated member to refuse linearizable reads", async () => {
      const res = await cluster.etcdctl(["get", "k", "--command-timeout=1s"], {
        endpoints: follower.clientUrl,
      });
      return res.code !== 0;
    });
    // The majority keeps working.
    const put = await cluster.etcdctl(["put", "k", "written-during-partition"], { endpoints: majority });
    assert.equal(put.code, 0, put.stderr);
    // The majority side still agrees on a leader.
    const majorityLeader = await cluster.waitLeader({ among: others });
    assert.ok(others.includes(majorityLeader));
    // No peer traffic got through to the isolated member: it has not seen the write.
    const stale = await cluster.etcdctl(["get", "k", "--consistency=s", "--print-value-only"], {
      endpoints: follower.clientUrl,
    });
    assert.equal(stale.stdout, "");

    cluster.heal(follower.name);
    await eventually(
      "the healed member to serve the write",
      async () => {
        const res = await cluster.etcdctl(["get", "k", "--print-value-only"], {
          endpoints: follower.clientUrl,
        });
        return res.code === 0 && res.stdout === "written-during-partition\n";
      },
      { timeoutMs: 30_000 },
    );
  });

  it("pausing every proxy leaves no quorum; resuming heals", async () => {
    for (const m of cluster.members) m.proxy?.pause();
    await eventually("writes to fail without quorum", async () => {
      const res = await cluster.etcdctl(["put", "q", "1", "--command-timeout=1s"]);
      return res.code !== 0;
    });
    for (const m of cluster.members) m.proxy?.resume();
    await eventually(
      "writes to succeed again",
      async () => (await cluster.etcdctl(["put", "q", "2", "--command-timeout=2s"])).code === 0,
      { timeoutMs: 30_000 },
    );
    const leader = await eventually("a leader all agree on", () => cluster.leader());
    assert.ok(cluster.members.includes(leader));
  });
});
