import { afterEach, describe, expect, it, vi } from "vitest";
import type { LeaseId } from "./lease-id.js";
import type { LeaseCheckpoint } from "./lessor.js";
import { LessorDriver } from "./lessor-driver.js";
import { FakeKv, harness } from "./test-fixture.js";

describe("LessorDriver", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    const h = harness({ checkpointIntervalMs: 60_000 });
    const revoked: LeaseId[][] = [];
    const checkpoints: LeaseCheckpoint[][] = [];
    const driver = new LessorDriver(
      h.lessor,
      {
        revoke: (ids) => revoked.push([...ids]),
        checkpoint: (cps) => checkpoints.push([...cps]),
      },
      500,
    );
    return { ...h, driver, revoked, checkpoints };
  }

  it("poll hands out expired leases and due checkpoints only on the primary", () => {
    const { lessor, clock, apply, driver, revoked, checkpoints } = setup();
    apply((b) => lessor.grant(b, { id: 1n, ttlSeconds: 5 }));
    apply((b) => lessor.grant(b, { id: 2n, ttlSeconds: 600 }));
    clock.advance(100_000);
    driver.poll();
    expect(revoked).toEqual([]);
    lessor.promote(0);
    clock.advance(5_000);
    driver.poll();
    expect(revoked).toEqual([[1n]]);
    expect(checkpoints).toEqual([]);
    clock.advance(55_000);
    driver.poll();
    expect(checkpoints).toEqual([[{ id: 2n, remainingTtlSeconds: 540 }]]);
    // Lease 1's revoke was never applied, so it was handed out again.
    expect(revoked).toEqual([[1n], [1n]]);
    const kv = new FakeKv(() => [lessor]);
    apply((b) => lessor.revoke(b, 1n, kv));
    clock.advance(10_000);
    driver.poll();
    expect(revoked).toEqual([[1n], [1n]]);
  });

  it("start polls on a timer until stop", () => {
    vi.useFakeTimers();
    const { lessor, clock, apply, driver, revoked } = setup();
    lessor.promote(0);
    apply((b) => lessor.grant(b, { id: 1n, ttlSeconds: 5 }));
    driver.start();
    driver.start();
    expect(driver.running).toBe(true);
    clock.advance(5_000);
    vi.advanceTimersByTime(499);
    expect(revoked).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(revoked).toEqual([[1n]]);
    driver.stop();
    expect(driver.running).toBe(false);
    clock.advance(5_000);
    vi.advanceTimersByTime(10_000);
    expect(revoked).toEqual([[1n]]);
  });
});
