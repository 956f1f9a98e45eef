import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "../client.js";
import {
  DeadlineExceededError,
  LockedError,
  NoElectionLeaderError,
  NotLeaderOfElectionError,
} from "../errors.js";
import { BACKENDS, startServer, type TestServer } from "../testing/servers.js";
import { Barrier, DoubleBarrier } from "./barrier.js";
import { Election } from "./election.js";
import { Mutex } from "./mutex.js";
import { PriorityQueue, Queue } from "./queue.js";
import { RWMutex } from "./rw-mutex.js";
import { ServiceRegistry } from "./service-registry.js";
import { Session } from "./session.js";
import { runSTM } from "./stm.js";

describe.each(BACKENDS)("concurrency recipes against %s", (backend) => {
  let server: TestServer;
  let client: EtcdClient;
  beforeAll(async () => {
    server = await startServer(backend);
    client = new EtcdClient({ endpoints: [server.endpoint] });
  });
  afterAll(async () => {
    client?.close();
    await server?.destroy();
  });

  it("Mutex: one holder at a time, increasing fencing tokens, tryLock, deadline, handover on close", async () => {
    const s1 = await Session.create(client, { ttlSeconds: 10 });
    const s2 = await Session.create(client, { ttlSeconds: 10 });
    const m1 = new Mutex(s1, "locks/a");
    const m2 = new Mutex(s2, "locks/a");
    const t1 = await m1.lock();
    expect(t1).toBeGreaterThan(0n);
    expect(await m1.isOwner()).toBe(true);
    await expect(m2.tryLock()).rejects.toBeInstanceOf(LockedError);
    await expect(m2.lock({ timeoutMs: 300 })).rejects.toBeInstanceOf(DeadlineExceededError);
    // The abandoned attempts left no contender key behind.
    expect((await client.get("locks/a/", { prefix: true })).count).toBe(1);
    const waiting = m2.lock();
    // The holder can guard its writes with the ownership compare.
    const guarded = await client.txn().if(m1.ownerCompare()).onSuccess().commit();
    expect(guarded.succeeded).toBe(true);
    await s1.close(); // revoking the lease releases the lock
    const t2 = await waiting;
    expect(t2).toBeGreaterThan(t1);
    expect((await client.txn().if(m1.ownerCompare()).commit()).succeeded).toBe(false);
    await m2.unlock();
    expect(await m2.isOwner()).toBe(false);
    await s2.close();
  });

  it("Election: campaign, leader, proclaim, observe, resign hands over", async () => {
    const s1 = await Session.create(client, { ttlSeconds: 10 });
    const s2 = await Session.create(client, { ttlSeconds: 10 });
    const e1 = new Election(s1, "elections/x");
    const e2 = new Election(s2, "elections/x");
    await expect(e1.leader()).rejects.toBeInstanceOf(NoElectionLeaderError);
    await expect(e1.proclaim("v")).rejects.toBeInstanceOf(NotLeaderOfElectionError);
    const won = await e1.campaign("first");
    expect(won.key).toBe(`elections/x/${s1.leaseHex}`);
    const abort = new AbortController();
    const observed: string[] = [];
    let sawFirst!: () => void;
    const firstSeen = new Promise<void>((resolve) => {
      sawFirst = resolve;
    });
    const observing = (async () => {
      for await (const kv of e2.observe(abort.signal)) {
        observed.push(kv.valueString);
        if (observed.length === 1) sawFirst();
        if (observed.length === 3) abort.abort();
      }
    })().catch(() => {});
    await firstSeen;
    const second = e2.campaign("second");
    await e1.proclaim("first-updated");
    expect((await e1.leader()).valueString).toBe("first-updated");
    await e1.resign();
    const won2 = await second;
    expect(won2.revision).toBeGreaterThan(won.revision);
    expect((await e2.leader()).valueString).toBe("second");
    await observing;
    expect(observed).toEqual(["first", "first-updated", "second"]);
    await s1.close();
    await s2.close();
  });

  it("STM: concurrent transfers keep the total (serializable and repeatable-read)", async () => {
    const accounts = ["acct/a", "acct/b", "acct/c"];
    for (const a of accounts) await client.put(a, "100");
    const transfer = (from: string, to: string, isolation: "serializable" | "repeatable-read") =>
      runSTM(
        client,
        async (stm) => {
          const f = Number(await stm.get(from));
          const t = Number(await stm.get(to));
          stm.put(from, String(f - 1));
          stm.put(to, String(t + 1));
        },
        { isolation },
      );
    const jobs = [];
    for (let i = 0; i < 12; i++) {
      const from = accounts[i % 3] as string;
      const to = accounts[(i + 1) % 3] as string;
      jobs.push(transfer(from, to, i % 2 === 0 ? "serializable" : "repeatable-read"));
    }
    await Promise.all(jobs);
    const values = await Promise.all(accounts.map(async (a) => Number(await client.getString(a))));
    expect(values.reduce((x, y) => x + y, 0)).toBe(300);
    expect(values).toEqual([100, 100, 100]);
  });

  it("Queue and PriorityQueue hand each item to exactly one consumer in order", async () => {
    const q = new Queue(client, "queues/q");
    const consumers = [q.dequeueString(), q.dequeueString()];
    await q.enqueue("a");
    await q.enqueue("b");
    await q.enqueue("c");
    const first = await Promise.all(consumers);
    expect(first.sort()).toEqual(["a", "b"]);
    expect(await q.dequeueString()).toBe("c");
    expect(await q.length()).toBe(0);
    const pq = new PriorityQueue(client, "queues/pq");
    await pq.enqueue("low", { priority: 9 });
    await pq.enqueue("urgent", { priority: 0 });
    await pq.enqueue("mid", { priority: 5 });
    await pq.enqueue("urgent2", { priority: 0 });
    const out = [];
    for (let i = 0; i < 4; i++) out.push(await pq.dequeueString());
    expect(out).toEqual(["urgent", "urgent2", "mid", "low"]);
  });

  it("Barrier blocks until released; DoubleBarrier enters and leaves together", async () => {
    const barrier = new Barrier(client, "barriers/b");
    await barrier.wait(); // not held: returns at once
    await barrier.hold();
    let passed = false;
    const waiting = barrier.wait().then(() => {
      passed = true;
    });
    await client.put("barriers/unrelated", "x");
    expect(passed).toBe(false);
    await barrier.release();
    await waiting;
    expect(passed).toBe(true);

    const sessions = await Promise.all([0, 1, 2].map(() => Session.create(client, { ttlSeconds: 10 })));
    const barriers = sessions.map((s) => new DoubleBarrier(s, "barriers/double", 3));
    const entered: number[] = [];
    const enters = barriers.slice(0, 2).map((b, i) => b.enter().then(() => entered.push(i)));
    await client.put("barriers/tick", "x");
    expect(entered).toEqual([]);
    await (barriers[2] as DoubleBarrier).enter();
    await Promise.all(enters);
    expect(entered.sort()).toEqual([0, 1]);
    await Promise.all(barriers.map((b) => b.leave()));
    for (const s of sessions) await s.close();
  });

  it("RWMutex: readers share, a writer excludes", async () => {
    const sessions = await Promise.all([0, 1, 2].map(() => Session.create(client, { ttlSeconds: 10 })));
    const [r1, r2, w] = sessions.map((s) => new RWMutex(s, "rw/lock")) as [RWMutex, RWMutex, RWMutex];
    await r1.rLock();
    await r2.rLock();
    await expect(w.lock({ timeoutMs: 300 })).rejects.toBeInstanceOf(DeadlineExceededError);
    const writing = w.lock();
    await r1.rUnlock();
    await r2.rUnlock();
    await writing;
    await expect(r1.rLock({ timeoutMs: 300 })).rejects.toBeInstanceOf(DeadlineExceededError);
    await w.unlock();
    await r1.rLock();
    await r1.rUnlock();
    for (const s of sessions) await s.close();
  });

  it("ServiceRegistry: instances appear, and vanish with their session", async () => {
    const registry = new ServiceRegistry(client);
    const watch = registry.watch("api");
    await watch.ready;
    const s1 = await Session.create(client, { ttlSeconds: 10 });
    const s2 = await Session.create(client, { ttlSeconds: 10 });
    const seen = new Promise<void>((resolve) =>
      watch.on("change", (set) => {
        if (set.size === 2) resolve();
      }),
    );
    await registry.register(s1, "api", "i1", "10.0.0.1:80");
    const r2 = await registry.register(s2, "api", "i2", "10.0.0.2:80");
    await seen;
    expect(await registry.list("api")).toEqual(
      new Map([
        ["i1", "10.0.0.1:80"],
        ["i2", "10.0.0.2:80"],
      ]),
    );
    const gone = new Promise<void>((resolve) =>
      watch.on("change", (set) => {
        if (set.size === 0) resolve();
      }),
    );
    await s1.close();
    await r2.unregister();
    await gone;
    await watch.close();
    await s2.close();
  });
});
