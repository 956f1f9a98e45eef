/**
 * Endpoint failover against a three-member cluster of each backend: the member the client is talking to dies
 * (SIGKILL), reads move on to another endpoint, and a write that was already sent when its member died is
 * reported as Unavailable and never sent a second time.
 */
import type { Transport } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "./client.js";
import type { TransportFactory } from "./endpoint-transport.js";
import { EndpointUnavailableError, UnavailableError } from "./errors.js";
import { BACKENDS, startCluster, type TestServer } from "./testing/servers.js";
import { createDefaultTransport } from "./transport-node.js";

/** SentCalls counts every unary call handed to a transport, per endpoint URL and method ("Range", "Put", ...). */
class SentCalls {
  private readonly counts = new Map<string, number>();

  count(url: string, method: string): number {
    return this.counts.get(`${url} ${method}`) ?? 0;
  }

  /** total is the number of `method` calls sent to any endpoint. */
  total(method: string): number {
    let sum = 0;
    for (const [key, n] of this.counts) if (key.endsWith(` ${method}`)) sum += n;
    return sum;
  }

  /** factory wraps the Node transport so that every unary call is counted as it is sent. */
  factory(): TransportFactory {
    return (settings) => {
      const inner = createDefaultTransport(settings);
      const transport: Transport = {
        unary: (method, ...rest) => {
          const key = `${settings.baseUrl} ${method.name}`;
          this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
          return inner.transport.unary(method, ...rest);
        },
        stream: (...args) => inner.transport.stream(...args),
      };
      return { ...inner, transport };
    };
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(BACKENDS)("endpoint failover in a 3-member %s cluster", (backend) => {
  let members: TestServer[];
  /** followers are two members that were not the leader when the cluster started. */
  let followers: TestServer[];
  let leader: TestServer;

  beforeAll(async () => {
    members = await startCluster(backend, 3);
    const probe = new EtcdClient({ endpoints: members.map((m) => m.endpoint) });
    try {
      const statuses = await Promise.all(
        members.map((m) => probe.maintenance.status({ endpoint: m.endpoint })),
      );
      const leaderIndex = statuses.findIndex((s) => s.header.memberId === s.leader);
      expect(leaderIndex).toBeGreaterThanOrEqual(0);
      leader = members[leaderIndex] as TestServer;
      followers = members.filter((m) => m !== leader);
    } finally {
      probe.close();
    }
  });
  afterAll(async () => {
    await Promise.all((members ?? []).map((m) => m.destroy()));
  });

  // The quorum survives one dead follower: the first test kills followers[0] and starts it again; the others
  // kill followers[1] and leave it dead.

  it("moves reads to the next endpoint when the member in use is killed", async () => {
    const [victim] = followers as [TestServer, TestServer];
    const sent = new SentCalls();
    const client = new EtcdClient({
      endpoints: [victim.endpoint, leader.endpoint],
      transport: sent.factory(),
      retry: { initialMs: 10, maxMs: 100 },
    });
    try {
      await client.put("failover/read", "v1");
      expect(await client.getString("failover/read")).toBe("v1");
      expect(client.endpoints[0]).toBe(`http://${victim.endpoint}`);

      await victim.stop("SIGKILL");
      // The first read goes to the dead member (its connection is reset or refused), then to the next one.
      expect(await client.getString("failover/read")).toBe("v1");
      expect(client.endpoints[0]).toBe(`http://${leader.endpoint}`);
      expect(sent.count(`http://${leader.endpoint}`, "Range")).toBe(1);
      // Serializable reads and writes keep working on the new endpoint.
      await client.put("failover/read", "v2");
      expect(await client.getString("failover/read", { serializable: true })).toBe("v2");
    } finally {
      client.close();
      await victim.start();
    }
  });

  it("reports a write in flight when its member dies as Unavailable, and never sends it again", async () => {
    const [, victim] = followers as [TestServer, TestServer];
    const sent = new SentCalls();
    const client = new EtcdClient({
      endpoints: [victim.endpoint, leader.endpoint],
      transport: sent.factory(),
      retry: { initialMs: 10, maxMs: 100 },
    });
    try {
      const before = await client.put("failover/write", "before");
      expect(client.endpoints[0]).toBe(`http://${victim.endpoint}`);

      // Freeze the member so the request is sent but never answered, then kill it: the write's fate is unknown.
      await victim.freeze();
      const write = client.put("failover/write", "in-flight");
      const outcome = write.then(
        () => undefined,
        (err: unknown) => err,
      );
      await until(() => sent.total("Put") === 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await victim.stop("SIGKILL");

      const err = await outcome;
      expect(err).toBeInstanceOf(UnavailableError);
      expect(err).not.toBeInstanceOf(EndpointUnavailableError);
      expect(sent.total("Put")).toBe(2); // "before" and the lost write, each sent exactly once

      // The client moved on; the lost write was not applied behind our back, and new writes go through.
      expect(client.endpoints[0]).toBe(`http://${leader.endpoint}`);
      const after = await client.get("failover/write");
      expect(after.kvs[0]?.valueString).toBe("before");
      expect(after.kvs[0]?.modRevision).toBe(before.header.revision);
      await client.put("failover/write", "after");
      expect(sent.total("Put")).toBe(3);
      expect(await client.getString("failover/write")).toBe("after");
    } finally {
      client.close();
      await victim.stop("SIGKILL");
    }
  });

  it("sends a write that could not be delivered (dead endpoint) to the next one", async () => {
    const [, victim] = followers as [TestServer, TestServer];
    const sent = new SentCalls();
    await victim.stop("SIGKILL");
    const client = new EtcdClient({
      endpoints: [victim.endpoint, leader.endpoint],
      transport: sent.factory(),
      retry: { initialMs: 10, maxMs: 100 },
    });
    try {
      // The dial fails, so nothing reached the dead member: re-sending the write elsewhere is safe.
      await client.put("failover/undelivered", "v");
      expect(sent.count(`http://${victim.endpoint}`, "Put")).toBe(0);
      expect(sent.count(`http://${leader.endpoint}`, "Put")).toBe(1);
      expect(await client.getString("failover/undelivered")).toBe("v");
    } finally {
      client.close();
    }
  });
});
