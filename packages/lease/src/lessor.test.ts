import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { LeaseExistsError, LeaseNotFoundError, LeaseTtlTooLargeError, NotPrimaryError } from "./errors.js";
import type { LeaseId } from "./lease-id.js";
import { leaseId } from "./lease-id.js";
import { MAX_LEASE_TTL_SECONDS, minLeaseTtlSeconds } from "./lease-ttl.js";
import { Lessor } from "./lessor.js";
import { bytes, FakeKv, harness, text } from "./test-fixture.js";

const ID1 = leaseId(1n);
const ID2 = leaseId(2n);
const ID3 = leaseId(3n);

describe("grant", () => {
  it("grants an explicit id, persists it, and lists it", () => {
    const { lessor, backend, apply } = harness();
    const info = apply((b) => lessor.grant(b, { id: 7n, ttlSeconds: 10 }));
    expect(info).toMatchObject({ id: 7n, ttlSeconds: 10, remainingTtlSeconds: 0, keys: [] });
    expect(lessor.leases()).toEqual([7n]);
    expect(lessor.size).toBe(1);
    expect(backend.size).toBe(1);
    expect(lessor.lookup(7n)?.ttlSeconds).toBe(10);
    expect(lessor.lookup(8n)).toBeUndefined();
  });

  it("rejects an id in use with etcd's message and changes nothing", () => {
    const { lessor, backend, apply } = harness();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    const batch = backend.batch();
    expect(() => lessor.grant(batch, { id: ID1, ttlSeconds: 20 })).toThrow(LeaseExistsError);
    expect(() => lessor.grant(batch, { id: ID1, ttlSeconds: 20 })).toThrow(
      "etcdserver: lease already exists",
    );
    expect(batch.operations).toEqual([]);
    expect(lessor.lookup(ID1)?.ttlSeconds).toBe(10);
  });

  it("derives the same id on every member for id 0, and skips ids in use", () => {
    const a = harness();
    const b = harness();
    const idA = a.apply((batch) => a.lessor.grant(batch, { id: 0n, ttlSeconds: 5, raftIndex: 42 })).id;
    const idB = b.apply((batch) => b.lessor.grant(batch, { id: 0n, ttlSeconds: 5, raftIndex: 42 })).id;
    expect(idA).toBe(idB);
    expect(idA > 0n).toBe(true);
    // A second id-0 grant that derives the same first candidate gets the next one, on both members.
    const againA = a.apply((batch) => a.lessor.grant(batch, { id: 0n, ttlSeconds: 5, raftIndex: 42 })).id;
    const againB = b.apply((batch) => b.lessor.grant(batch, { id: 0n, ttlSeconds: 5, raftIndex: 42 })).id;
    expect(againA).not.toBe(idA);
    expect(againA).toBe(againB);
    const other = a.apply((batch) => a.lessor.grant(batch, { id: 0n, ttlSeconds: 5, raftIndex: 43 })).id;
    expect(new Set([idA, againA, other]).size).toBe(3);
  });

  it("raises a TTL below the minimum of ceil(1.5 election timeouts)", () => {
    expect(minLeaseTtlSeconds(1000)).toBe(2);
    expect(minLeaseTtlSeconds(100)).toBe(1);
    expect(minLeaseTtlSeconds(5000)).toBe(8);
    const { lessor, apply } = harness({ minTtlSeconds: minLeaseTtlSeconds(1000) });
    expect(apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 1 })).ttlSeconds).toBe(2);
    expect(apply((b) => lessor.grant(b, { id: ID2, ttlSeconds: 0 })).ttlSeconds).toBe(2);
    expect(apply((b) => lessor.grant(b, { id: ID3, ttlSeconds: -5n })).ttlSeconds).toBe(2);
    expect(apply((b) => lessor.grant(b, { id: 4n, ttlSeconds: 3 })).ttlSeconds).toBe(3);
  });

  it("rejects a TTL above 9e9 seconds with etcd's message", () => {
    const { lessor, backend, apply } = harness();
    expect(apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: MAX_LEASE_TTL_SECONDS })).ttlSeconds).toBe(
      9e9,
    );
    const batch = backend.batch();
    expect(() => lessor.grant(batch, { id: ID2, ttlSeconds: MAX_LEASE_TTL_SECONDS + 1 })).toThrow(
      LeaseTtlTooLargeError,
    );
    expect(() => lessor.grant(batch, { id: ID2, ttlSeconds: 1n << 62n })).toThrow(
      "etcdserver: too large lease TTL",
    );
    expect(batch.operations).toEqual([]);
    expect(lessor.lookup(ID2)).toBeUndefined();
  });
});

describe("revoke, attach, detach", () => {
  function member() {
    const h = harness();
    const kv = new FakeKv(() => [h.lessor]);
    return { ...h, kv };
  }

  it("deletes every attached key in ONE revision, then the lease and its record", () => {
    const { lessor, backend, apply, kv } = member();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    apply((b) => lessor.grant(b, { id: ID2, ttlSeconds: 10 }));
    kv.put("b", ID1);
    kv.put("a", ID1);
    kv.put("c", ID2);
    kv.put("plain", 0n);
    const before = kv.revision;
    const result = apply((b) => lessor.revoke(b, ID1, kv));
    expect(text(result.deletedKeys)).toEqual(["a", "b"]);
    expect(kv.revision).toBe(before + 1);
    expect(kv.deleteCalls).toBe(1);
    expect([...kv.data.keys()].sort()).toEqual(["c", "plain"]);
    expect(lessor.lookup(ID1)).toBeUndefined();
    expect(lessor.leaseOfKey(bytes("a"))).toBeUndefined();
    expect(lessor.leases()).toEqual([ID2]);
    expect(backend.size).toBe(1);
  });

  it("hands back what an asynchronous deleter (mvcc) returns, for the caller to await and commit", async () => {
    const { lessor, apply } = member();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    lessor.attach(ID1, bytes("x"));
    const deleted: string[][] = [];
    const asyncDeleter = {
      async deleteKeys(keys: readonly Uint8Array[]): Promise<{ revision: number }> {
        await Promise.resolve();
        deleted.push(text(keys));
        return { revision: 9 };
      },
    };
    const result = apply((b) => lessor.revoke(b, ID1, asyncDeleter));
    expect(await result.deletion).toEqual({ revision: 9 });
    expect(deleted).toEqual([["x"]]);
    // mvcc reporting the key's lease change afterwards is harmless.
    lessor.recordDelete(bytes("x"));
    apply((b) => lessor.grant(b, { id: ID2, ttlSeconds: 10 }));
    expect(apply((b) => lessor.revoke(b, ID2, asyncDeleter)).deletion).toBeUndefined();
  });

  it("does not call the deleter for a lease without keys", () => {
    const { lessor, apply, kv } = member();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    const before = kv.revision;
    expect(apply((b) => lessor.revoke(b, ID1, kv)).deletedKeys).toEqual([]);
    expect(kv.deleteCalls).toBe(0);
    expect(kv.revision).toBe(before);
  });

  it("fails to revoke an unknown lease with etcd's message", () => {
    const { lessor, backend, kv } = member();
    const batch = backend.batch();
    expect(() => lessor.revoke(batch, ID1, kv)).toThrow(LeaseNotFoundError);
    expect(() => lessor.revoke(batch, ID1, kv)).toThrow("etcdserver: requested lease not found");
    expect(batch.operations).toEqual([]);
  });

  it("follows puts with a lease, overwrites with another lease or none, and deletes", () => {
    const { lessor, apply, kv } = member();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    apply((b) => lessor.grant(b, { id: ID2, ttlSeconds: 10 }));
    kv.put("k", ID1);
    kv.put("j", ID1);
    expect(text(lessor.lookup(ID1)!.keys)).toEqual(["j", "k"]);
    expect(lessor.leaseOfKey(bytes("k"))).toBe(ID1);
    kv.put("k", ID2); // overwrite with another lease moves the key
    expect(text(lessor.lookup(ID1)!.keys)).toEqual(["j"]);
    expect(text(lessor.lookup(ID2)!.keys)).toEqual(["k"]);
    kv.put("j", 0n); // overwrite without a lease detaches it
    expect(lessor.lookup(ID1)!.keys).toEqual([]);
    expect(lessor.leaseOfKey(bytes("j"))).toBeUndefined();
    kv.del("k");
    expect(lessor.lookup(ID2)!.keys).toEqual([]);
    // Revoking ID1 now deletes nothing: its keys moved away.
    expect(apply((b) => lessor.revoke(b, ID1, kv)).deletedKeys).toEqual([]);
    expect(kv.data.get("j")).toBe(0n);
  });

  it("attach and detach directly, with unknown leases", () => {
    const { lessor, apply } = member();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    expect(() => lessor.attach(ID2, bytes("x"))).toThrow(LeaseNotFoundError);
    lessor.attach(ID1, bytes("x"));
    lessor.attach(ID1, bytes("x"));
    expect(lessor.detach(ID2, bytes("x"))).toBe(false);
    expect(lessor.detach(ID1, bytes("y"))).toBe(false);
    expect(lessor.detach(ID1, bytes("x"))).toBe(true);
    expect(lessor.detach(ID1, bytes("x"))).toBe(false);
  });

  it("keeps binary keys intact and in byte order", () => {
    const { lessor, apply } = member();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    const keys = [Uint8Array.of(0xff, 0), Uint8Array.of(0), Uint8Array.of(0x80, 0x01), Uint8Array.of()];
    for (const key of keys) {
      lessor.attach(ID1, key);
    }
    expect(lessor.timeToLive(ID1, { keys: true }).keys).toEqual([
      Uint8Array.of(),
      Uint8Array.of(0),
      Uint8Array.of(0x80, 0x01),
      Uint8Array.of(0xff, 0),
    ]);
  });
});

describe("time to live and keep-alive", () => {
  it("reports remaining and granted TTL and keys; -1 for an unknown lease", () => {
    const { lessor, clock, apply } = harness();
    lessor.promote(0);
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    lessor.attach(ID1, bytes("k"));
    clock.advance(2500);
    const ttl = lessor.timeToLive(ID1, { keys: true });
    expect(ttl).toMatchObject({ id: ID1, ttlSeconds: 7, grantedTtlSeconds: 10 });
    expect(text(ttl.keys)).toEqual(["k"]);
    expect(lessor.timeToLive(ID1).keys).toEqual([]);
    expect(lessor.timeToLive(ID2)).toEqual({ id: ID2, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] });
    clock.advance(60_000);
    expect(lessor.timeToLive(ID1).ttlSeconds).toBe(0);
  });

  it("renews before expiry so the lease does not expire", () => {
    const { lessor, clock, apply } = harness();
    lessor.promote(0);
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    for (let i = 0; i < 10; i++) {
      clock.advance(9_000);
      expect(lessor.findExpired()).toEqual([]);
      expect(lessor.renew(ID1)).toEqual({ id: ID1, ttlSeconds: 10, checkpoint: undefined });
      expect(lessor.timeToLive(ID1).ttlSeconds).toBe(10);
    }
    clock.advance(10_000);
    expect(lessor.findExpired()).toEqual([ID1]);
  });

  it("only the primary renews; unknown leases get TTL 0 from keepAlive", () => {
    const { lessor, apply } = harness();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    expect(() => lessor.renew(ID1)).toThrow(NotPrimaryError);
    expect(() => lessor.keepAlive(ID1)).toThrow(NotPrimaryError);
    lessor.promote(0);
    expect(lessor.keepAlive(ID1).ttlSeconds).toBe(10);
    expect(() => lessor.renew(ID2)).toThrow(LeaseNotFoundError);
    expect(lessor.keepAlive(ID2)).toEqual({ id: ID2, ttlSeconds: 0, checkpoint: undefined });
  });

  it("a follower reports the checkpointed or full TTL", () => {
    const { lessor, apply } = harness();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 1000 }));
    expect(lessor.timeToLive(ID1).ttlSeconds).toBe(1000);
    expect(lessor.lookup(ID1)?.expiryMs).toBeUndefined();
    apply((b) => lessor.checkpoint(b, ID1, 400));
    expect(lessor.timeToLive(ID1).ttlSeconds).toBe(400);
  });
});

describe("renew racing revoke", () => {
  it("never reports success for an expired or revoked lease", () => {
    const { lessor, clock, apply } = harness();
    const kv = new FakeKv(() => [lessor]);
    lessor.promote(0);
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 5 }));
    kv.put("k", ID1);
    clock.advance(5_000);
    // The deadline has passed: the revoke is about to be proposed, so the renew must fail ...
    expect(() => lessor.renew(ID1)).toThrow(LeaseNotFoundError);
    expect(lessor.keepAlive(ID1).ttlSeconds).toBe(0);
    expect(lessor.findExpired()).toEqual([ID1]);
    // ... also while the revoke is in flight ...
    clock.advance(100);
    expect(() => lessor.renew(ID1)).toThrow(LeaseNotFoundError);
    // ... and after it is applied.
    apply((b) => lessor.revoke(b, ID1, kv));
    expect(() => lessor.renew(ID1)).toThrow(LeaseNotFoundError);
    expect(kv.data.has("k")).toBe(false);
  });

  it("a renew after a client's revoke is applied fails", () => {
    const { lessor, apply } = harness();
    const kv = new FakeKv(() => [lessor]);
    lessor.promote(0);
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 50 }));
    expect(lessor.renew(ID1).ttlSeconds).toBe(50);
    apply((b) => lessor.revoke(b, ID1, kv));
    expect(() => lessor.renew(ID1)).toThrow(LeaseNotFoundError);
    // Re-granting the same id is a new lease; stale queue items of the old one do not expire it.
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 100 }));
    expect(lessor.findExpired()).toEqual([]);
  });
});

describe("expiry", () => {
  it("hands out expired leases in deadline order, never before their deadline", () => {
    const { lessor, clock, apply } = harness();
    lessor.promote(0);
    const ttls: [bigint, number][] = [
      [10n, 30],
      [11n, 5],
      [12n, 20],
      [13n, 5],
      [14n, 60],
    ];
    for (const [id, ttl] of ttls) {
      apply((b) => lessor.grant(b, { id, ttlSeconds: ttl }));
    }
    clock.advance(4_999);
    expect(lessor.findExpired()).toEqual([]);
    expect(lessor.nextWakeupMs()).toBe(clock.now() + 1);
    clock.advance(1);
    expect(lessor.findExpired()).toEqual([11n, 13n]);
    const kv = new FakeKv(() => [lessor]);
    apply((b) => lessor.revoke(b, 11n, kv));
    apply((b) => lessor.revoke(b, 13n, kv));
    clock.advance(40_000);
    expect(lessor.findExpired()).toEqual([12n, 10n]);
    expect(lessor.findExpired(1)).toEqual([]);
    clock.advance(20_000);
    // 12 and 10 were handed out but not revoked, so they come round again (retried at the same moment,
    // so by id), before 14.
    expect(lessor.findExpired()).toEqual([10n, 12n, 14n]);
  });

  it("hands a lease out again only after the retry interval, until it is revoked", () => {
    const { lessor, clock, apply } = harness({ expiredRetryMs: 3000 });
    const kv = new FakeKv(() => [lessor]);
    lessor.promote(0);
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 5 }));
    clock.advance(5_000);
    expect(lessor.findExpired()).toEqual([ID1]);
    clock.advance(2_999);
    expect(lessor.findExpired()).toEqual([]);
    clock.advance(1);
    expect(lessor.findExpired()).toEqual([ID1]);
    apply((b) => lessor.revoke(b, ID1, kv));
    clock.advance(10_000);
    expect(lessor.findExpired()).toEqual([]);
  });

  it("respects the limit argument", () => {
    const { lessor, clock, apply } = harness();
    lessor.promote(0);
    for (let id = 1n; id <= 5n; id++) {
      apply((b) => lessor.grant(b, { id, ttlSeconds: 5 }));
    }
    clock.advance(5_000);
    expect(lessor.findExpired(2)).toEqual([1n, 2n]);
    expect(lessor.findExpired(2)).toEqual([3n, 4n]);
    expect(lessor.findExpired(2)).toEqual([5n]);
  });

  it("revokes at most maxRevokesPerSecond (default 1000) a second", () => {
    const { lessor, clock, apply } = harness();
    lessor.promote(0);
    apply((b) => {
      for (let id = 1n; id <= 2500n; id++) {
        lessor.grant(b, { id, ttlSeconds: 5 });
      }
    });
    clock.advance(5_000);
    const first = lessor.findExpired(10_000);
    expect(first).toHaveLength(1000);
    expect(lessor.findExpired(10_000)).toEqual([]);
    clock.advance(500);
    expect(lessor.findExpired(10_000)).toHaveLength(500);
    clock.advance(10_000); // the bucket holds at most one second's worth
    const rest = lessor.findExpired(10_000);
    expect(rest).toHaveLength(1000);
    expect(new Set([...first, ...rest]).size).toBe(2000);
  });

  it("takes a configured rate", () => {
    const { lessor, clock, apply } = harness({ maxRevokesPerSecond: 10 });
    lessor.promote(0);
    apply((b) => {
      for (let id = 1n; id <= 50n; id++) {
        lessor.grant(b, { id, ttlSeconds: 5 });
      }
    });
    clock.advance(5_000);
    expect(lessor.findExpired(100)).toHaveLength(10);
    clock.advance(100);
    expect(lessor.findExpired(100)).toHaveLength(1);
  });
});

describe("bounds", () => {
  it("stale queue items from renews are compacted away", () => {
    const { lessor, clock, apply } = harness({ checkpointIntervalMs: 1_000 });
    lessor.promote(0);
    apply((b) => {
      for (let id = 1n; id <= 10n; id++) {
        lessor.grant(b, { id, ttlSeconds: 3600 });
      }
    });
    for (let round = 0; round < 1000; round++) {
      clock.advance(10);
      for (let id = 1n; id <= 10n; id++) {
        lessor.renew(id);
      }
      const { expiry, checkpoint } = lessor.queuedItems;
      expect(expiry).toBeLessThanOrEqual(2 * 10 + 1024 + 1);
      expect(checkpoint).toBeLessThanOrEqual(2 * 10 + 1024 + 1);
    }
    // Every lease is still there and expires on time.
    clock.advance(3_600_000);
    expect(lessor.findExpired()).toHaveLength(10);
  });
});

describe("promotion and demotion", () => {
  it("a follower never expires anything, however late it is", () => {
    const { lessor, clock, apply } = harness();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 5 }));
    clock.advance(1_000_000);
    expect(lessor.isPrimary).toBe(false);
    expect(lessor.findExpired()).toEqual([]);
    expect(lessor.findDueCheckpoints()).toEqual([]);
    expect(lessor.nextWakeupMs()).toBeUndefined();
  });

  it("promotion gives every lease its TTL again plus the extension", () => {
    const { lessor, clock, apply } = harness();
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    clock.advance(100_000); // the old leader's view is lost; ours has no deadlines
    lessor.promote(1_500);
    expect(lessor.isPrimary).toBe(true);
    expect(lessor.lookup(ID1)?.expiryMs).toBe(clock.now() + 11_500);
    clock.advance(11_499);
    expect(lessor.findExpired()).toEqual([]);
    clock.advance(1);
    expect(lessor.findExpired()).toEqual([ID1]);
  });

  it("spreads deadlines after promotion so no second holds more than 3/4 of the revoke rate", () => {
    const { lessor, clock, apply } = harness({ maxRevokesPerSecond: 100 });
    apply((b) => {
      for (let id = 1n; id <= 300n; id++) {
        lessor.grant(b, { id, ttlSeconds: 10 });
      }
    });
    lessor.promote(0);
    const start = clock.now();
    const perSecond = new Map<number, number>();
    for (const id of lessor.leases()) {
      const second = Math.floor((lessor.lookup(id)!.expiryMs! - start) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      expect(second).toBeGreaterThanOrEqual(10);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(75);
  });

  it("demotion stops expiry and renewals; a deposed leader never revokes", () => {
    const { lessor, clock, apply } = harness();
    lessor.promote(0);
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 5 }));
    apply((b) => lessor.grant(b, { id: ID2, ttlSeconds: 5 }));
    clock.advance(6_000);
    lessor.demote();
    expect(lessor.isPrimary).toBe(false);
    expect(lessor.findExpired()).toEqual([]);
    expect(() => lessor.renew(ID1)).toThrow(NotPrimaryError);
    expect(lessor.nextWakeupMs()).toBeUndefined();
    // Promoted again later: leases start over from their TTL.
    lessor.promote(0);
    expect(lessor.findExpired()).toEqual([]);
    clock.advance(5_000);
    expect(lessor.findExpired()).toEqual([ID1, ID2]);
  });
});

describe("checkpoints", () => {
  /** cluster: two members on one clock applying the same entries; `a` leads first. */
  function cluster(checkpointing = true) {
    const clock = new ManualClock(0);
    const config = { checkpointIntervalMs: 60_000, checkpointing };
    const a = harness(config, clock);
    const b = harness(config, clock);
    const members = [a, b];
    const applyAll = (fn: (lessor: Lessor, batch: Parameters<Parameters<typeof a.apply>[0]>[0]) => void) => {
      for (const m of members) {
        m.apply((batch) => fn(m.lessor, batch));
      }
    };
    return { clock, a, b, applyAll };
  }

  it("schedules checkpoints for leases longer than the interval, one interval apart", () => {
    const { clock, a, applyAll } = cluster();
    a.lessor.promote(0);
    applyAll((l, batch) => l.grant(batch, { id: ID1, ttlSeconds: 600 }));
    applyAll((l, batch) => l.grant(batch, { id: ID2, ttlSeconds: 30 }));
    clock.advance(59_999);
    expect(a.lessor.findDueCheckpoints()).toEqual([]);
    clock.advance(1);
    expect(a.lessor.findDueCheckpoints()).toEqual([{ id: ID1, remainingTtlSeconds: 540 }]);
    expect(a.lessor.findDueCheckpoints()).toEqual([]);
    clock.advance(60_000);
    expect(a.lessor.findDueCheckpoints()).toEqual([{ id: ID1, remainingTtlSeconds: 480 }]);
  });

  it("bounds one batch of checkpoints", () => {
    const { clock, a, applyAll } = cluster();
    a.lessor.promote(0);
    applyAll((l, batch) => {
      for (let id = 1n; id <= 5n; id++) {
        l.grant(batch, { id, ttlSeconds: 600 });
      }
    });
    clock.advance(60_000);
    expect(a.lessor.findDueCheckpoints(2)).toHaveLength(2);
    expect(a.lessor.findDueCheckpoints(10)).toHaveLength(3);
  });

  it("a leader change keeps the remaining TTL within one checkpoint interval", () => {
    const { clock, a, b, applyAll } = cluster();
    a.lessor.promote(0);
    applyAll((l, batch) => l.grant(batch, { id: ID1, ttlSeconds: 600 }));
    for (let second = 1; second <= 130; second++) {
      clock.advance(1_000);
      const due = a.lessor.findDueCheckpoints();
      for (const cp of due) {
        applyAll((l, batch) => l.checkpoint(batch, cp.id, cp.remainingTtlSeconds));
      }
    }
    // The leader dies at t=130 s; b takes over. The lease truly has 470 s left.
    a.lessor.demote();
    b.lessor.promote(0);
    const remaining = b.lessor.timeToLive(ID1).ttlSeconds;
    expect(remaining).toBeGreaterThanOrEqual(470);
    expect(remaining).toBeLessThanOrEqual(470 + 60);
    expect(remaining).toBe(480); // the checkpoint taken at t=120 s
  });

  it("without checkpoints a leader change resets the TTL (the etcd default we improve on)", () => {
    const { clock, a, b, applyAll } = cluster(false);
    a.lessor.promote(0);
    applyAll((l, batch) => l.grant(batch, { id: ID1, ttlSeconds: 600 }));
    clock.advance(130_000);
    expect(a.lessor.findDueCheckpoints()).toEqual([]);
    a.lessor.demote();
    b.lessor.promote(0);
    expect(b.lessor.timeToLive(ID1).ttlSeconds).toBe(600);
  });

  it("a renew after a checkpoint asks for a reset so the new leader restores the full TTL", () => {
    const { clock, a, b, applyAll } = cluster();
    a.lessor.promote(0);
    applyAll((l, batch) => l.grant(batch, { id: ID1, ttlSeconds: 600 }));
    clock.advance(60_000);
    const [cp] = a.lessor.findDueCheckpoints();
    // The renew happens while the checkpoint is still in flight: a reset is needed all the same.
    const renewed = a.lessor.renew(ID1);
    expect(renewed.checkpoint).toEqual({ id: ID1, remainingTtlSeconds: 0 });
    applyAll((l, batch) => l.checkpoint(batch, cp!.id, cp!.remainingTtlSeconds));
    // The leader's own deadline is not cut short by the older checkpoint.
    expect(a.lessor.timeToLive(ID1).ttlSeconds).toBe(600);
    applyAll((l, batch) => l.checkpoint(batch, ID1, renewed.checkpoint!.remainingTtlSeconds));
    expect(b.lessor.lookup(ID1)?.remainingTtlSeconds).toBe(0);
    // A second renew with nothing checkpointed since needs no reset.
    expect(a.lessor.renew(ID1).checkpoint).toBeUndefined();
    clock.advance(1_000);
    a.lessor.demote();
    b.lessor.promote(0);
    expect(b.lessor.timeToLive(ID1).ttlSeconds).toBe(600);
  });

  it("keeps asking for resets while an earlier reset may still be in flight (found by the simulation)", () => {
    const { clock, a, b, applyAll } = cluster();
    a.lessor.promote(0);
    applyAll((l, batch) => l.grant(batch, { id: ID1, ttlSeconds: 600 }));
    clock.advance(60_000);
    const [periodic] = a.lessor.findDueCheckpoints(); // proposed, not yet applied
    const first = a.lessor.renew(ID1);
    expect(first.checkpoint).toEqual({ id: ID1, remainingTtlSeconds: 0 });
    clock.advance(4_000);
    // The first reset has not been applied: if it is lost while the periodic checkpoint commits, followers
    // would be left with 540 s. So this renew must ask for a reset of its own.
    const second = a.lessor.renew(ID1);
    expect(second.checkpoint).toEqual({ id: ID1, remainingTtlSeconds: 0 });
    applyAll((l, batch) => l.checkpoint(batch, ID1, periodic!.remainingTtlSeconds));
    // Both resets are lost in a leader change; the client was answered only if a reset applied, and none did.
    a.lessor.demote();
    b.lessor.promote(0);
    expect(b.lessor.timeToLive(ID1).ttlSeconds).toBe(540);
    // Once the periodic checkpoint and a later reset are applied, renews stop asking.
    const third = b.lessor.renew(ID1);
    expect(third.checkpoint).toBeDefined();
    applyAll((l, batch) => l.checkpoint(batch, ID1, 0));
    expect(b.lessor.renew(ID1).checkpoint).toBeUndefined();
  });

  it("ignores a checkpoint for a lease that no longer exists", () => {
    const { a } = cluster();
    expect(a.apply((batch) => a.lessor.checkpoint(batch, ID1, 5))).toBe(false);
    expect(a.backend.size).toBe(0);
  });

  it("does not checkpoint an expired lease", () => {
    const { clock, a, applyAll } = cluster();
    a.lessor.promote(0);
    applyAll((l, batch) => l.grant(batch, { id: ID1, ttlSeconds: 100 }));
    clock.advance(200_000);
    expect(a.lessor.findDueCheckpoints()).toEqual([]);
    expect(a.lessor.findExpired()).toEqual([ID1]);
  });
});

describe("recovery", () => {
  it("restores leases, TTLs and checkpoints from the backend; keys come back through attach", async () => {
    const { lessor, backend, clock, apply } = harness();
    const kv = new FakeKv(() => [lessor]);
    apply((b) => lessor.grant(b, { id: ID1, ttlSeconds: 600 }));
    apply((b) => lessor.grant(b, { id: ID2, ttlSeconds: 20 }));
    apply((b) => lessor.grant(b, { id: ID3, ttlSeconds: 30 }));
    apply((b) => lessor.checkpoint(b, ID1, 300));
    apply((b) => lessor.revoke(b, ID3, kv));
    kv.put("a", ID1);
    kv.put("b", ID2);

    const reopened = await Lessor.open(backend, { clock, minTtlSeconds: 2 });
    expect(reopened.leases()).toEqual([ID1, ID2]);
    expect(reopened.isPrimary).toBe(false);
    for (const [key, lease] of kv.data) {
      if (lease !== 0n) {
        reopened.attach(lease, bytes(key));
      }
    }
    expect(text(reopened.lookup(ID1)!.keys)).toEqual(["a"]);
    expect(reopened.lookup(ID1)?.remainingTtlSeconds).toBe(300);
    reopened.promote(0);
    expect(reopened.lookup(ID1)?.expiryMs).toBe(clock.now() + 300_000);
    expect(reopened.lookup(ID2)?.expiryMs).toBe(clock.now() + 20_000);
  });

  it("recover replaces the previous state", async () => {
    const first = harness();
    first.apply((b) => first.lessor.grant(b, { id: ID1, ttlSeconds: 10 }));
    const second = harness();
    second.apply((b) => second.lessor.grant(b, { id: ID2, ttlSeconds: 10 }));
    second.lessor.attach(ID2, bytes("k"));
    second.lessor.promote(0);
    await second.lessor.recover(first.backend);
    expect(second.lessor.leases()).toEqual([ID1]);
    expect(second.lessor.leaseOfKey(bytes("k"))).toBeUndefined();
    expect(second.lessor.isPrimary).toBe(false);
  });
});

describe("ids", () => {
  it("accepts negative int64 ids and lists them in order", () => {
    const { lessor, apply } = harness();
    const ids: LeaseId[] = [leaseId(5n), leaseId(-3n), leaseId((1n << 63n) - 1n), leaseId(-(1n << 63n))];
    for (const id of ids) {
      apply((b) => lessor.grant(b, { id, ttlSeconds: 10 }));
    }
    expect(lessor.leases()).toEqual([-(1n << 63n), -3n, 5n, (1n << 63n) - 1n]);
  });
});
