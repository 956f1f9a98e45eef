import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { LeaseCorruptError } from "./errors.js";
import type { LeaseBatch } from "./lease-backend.js";
import { Lessor } from "./lessor.js";
import { LevelLeaseBackend, sublevelLeaseReader } from "./level-lease-backend.js";
import { MemoryLeaseBackend } from "./memory-lease-backend.js";
import { bytes, FakeKv, text } from "./test-fixture.js";

describe("LevelLeaseBackend", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "etcd-ts-lease-"));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** member opens the backend the way the server does: one database, sublevels, one batch per entry. */
  async function member(clock: ManualClock) {
    const db = new ClassicLevel<string, string>(join(dir, "db"));
    await db.open();
    const backend = new LevelLeaseBackend(db);
    // Another store's sublevel, written in the same batches, as mvcc would be.
    const other = db.sublevel<string, string>("kv", {});
    const lessor = await Lessor.open(backend, { clock, minTtlSeconds: 2, checkpointIntervalMs: 60_000 });
    const apply = async <T>(fn: (batch: LeaseBatch) => T): Promise<T> => {
      const chained = db.batch();
      const result = fn(backend.batch(chained));
      chained.put("applied", "yes", { sublevel: other });
      await chained.write();
      return result;
    };
    return { db, backend, lessor, apply, other };
  }

  it("round-trips leases, checkpoints and deadlines through a restart", async () => {
    const clock = new ManualClock(10_000);
    const first = await member(clock);
    const kv = new FakeKv(() => [first.lessor]);
    first.lessor.promote(0);
    await first.apply((b) => first.lessor.grant(b, { id: 1n, ttlSeconds: 600 }));
    await first.apply((b) => first.lessor.grant(b, { id: 2n, ttlSeconds: 30 }));
    await first.apply((b) => first.lessor.grant(b, { id: 0n, ttlSeconds: 45, raftIndex: 9 }));
    await first.apply((b) => first.lessor.grant(b, { id: -4n, ttlSeconds: 50 }));
    const derived = first.lessor.leases().find((id) => ![1n, 2n, -4n].includes(id))!;
    kv.put("a", 1n);
    kv.put("b", 1n);
    kv.put("c", 2n);
    clock.advance(60_000);
    for (const cp of first.lessor.findDueCheckpoints()) {
      await first.apply((b) => first.lessor.checkpoint(b, cp.id, cp.remainingTtlSeconds));
    }
    await first.apply((b) => first.lessor.revoke(b, -4n, kv));
    const before = first.lessor.leases();
    expect(await first.other.get("applied")).toBe("yes");
    await first.db.close();

    clock.advance(5_000);
    const second = await member(clock);
    expect(second.lessor.leases()).toEqual(before);
    expect(second.lessor.leases()).toEqual([1n, 2n, derived].sort((x, y) => (x < y ? -1 : 1)));
    for (const [key, lease] of kv.data) {
      second.lessor.attach(lease, bytes(key)); // what mvcc reports on recovery
    }
    expect(text(second.lessor.timeToLive(1n, { keys: true }).keys)).toEqual(["a", "b"]);
    expect(text(second.lessor.timeToLive(2n, { keys: true }).keys)).toEqual(["c"]);
    expect(second.lessor.lookup(1n)?.remainingTtlSeconds).toBe(540);
    expect(second.lessor.lookup(derived)?.ttlSeconds).toBe(45);
    second.lessor.promote(0);
    expect(second.lessor.lookup(1n)?.expiryMs).toBe(clock.now() + 540_000);
    expect(second.lessor.lookup(2n)?.expiryMs).toBe(clock.now() + 30_000);
    // The restarted primary expires as before.
    clock.advance(30_000);
    expect(second.lessor.findExpired()).toEqual([2n]);
    await second.db.close();
  });

  it("recovers through a sublevel the server opened itself, with its own batches", async () => {
    const clock = new ManualClock(0);
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, "server"), {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    await db.open();
    const sublevel = db.sublevel<Uint8Array, Uint8Array>("lease", {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    const lessor = new Lessor({ clock, minTtlSeconds: 2 });
    // The server's own scoped batch, as its BackendWrite does.
    const ops: { key: Uint8Array; value?: Uint8Array }[] = [];
    lessor.grant(
      { put: (key, value) => ops.push({ key, value }), del: (key) => ops.push({ key }) },
      {
        id: 5n,
        ttlSeconds: 30,
      },
    );
    const chained = db.batch();
    for (const op of ops) {
      if (op.value === undefined) chained.del(op.key, { sublevel });
      else chained.put(op.key, op.value, { sublevel });
    }
    await chained.write();
    const reopened = await Lessor.open(sublevelLeaseReader(sublevel), { clock, minTtlSeconds: 2 });
    expect(reopened.leases()).toEqual([5n]);
    expect(reopened.lookup(5n)?.ttlSeconds).toBe(30);
    // The same records are visible through LevelLeaseBackend on the same database.
    expect((await Lessor.open(new LevelLeaseBackend(db), { clock, minTtlSeconds: 2 })).leases()).toEqual([
      5n,
    ]);
    await db.close();
  });

  it("reports a damaged record as corruption and leaves the lessor as it was", async () => {
    const clock = new ManualClock(0);
    const first = await member(clock);
    await first.apply((b) => first.lessor.grant(b, { id: 1n, ttlSeconds: 10 }));
    await first.apply((b) => b.put(bytes("12345678"), Uint8Array.of(1, 2, 3)));
    const lessor = new Lessor({ clock, minTtlSeconds: 2 });
    lessor.grant(new MemoryLeaseBackend().batch(), { id: 7n, ttlSeconds: 10 });
    await expect(lessor.recover(first.backend)).rejects.toThrow(LeaseCorruptError);
    expect(lessor.leases()).toEqual([7n]);
    await first.db.close();
  });
});
