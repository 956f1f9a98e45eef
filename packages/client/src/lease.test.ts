import { describe, expect, it } from "vitest";
import type { LeaseLostError } from "./errors.js";
import { type Clock, type KeepAliveManager, LeaseKeepAlive } from "./lease.js";

/** FakeClock runs timers only when advanced. */
class FakeClock implements Clock {
  time = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (due === undefined || due.at > end) break;
      this.timers.shift();
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
}

function setup(ttlSeconds?: number) {
  const clock = new FakeClock();
  const sent: number[] = [];
  const manager = { send: () => sent.push(clock.now()), remove: () => {} } as unknown as KeepAliveManager;
  const keepAlive = new LeaseKeepAlive(manager, 7n, clock, ttlSeconds);
  const lost: LeaseLostError[] = [];
  keepAlive.on("lost", (err) => lost.push(err));
  keepAlive.start();
  return { clock, sent, keepAlive, lost };
}

describe("LeaseKeepAlive scheduling (injected clock)", () => {
  it("renews at once, then every third of the TTL after each answer", () => {
    const { clock, sent, keepAlive } = setup(9);
    clock.advance(0);
    expect(sent).toEqual([0]);
    keepAlive.onResponse(9);
    clock.advance(2_999);
    expect(sent).toEqual([0]);
    clock.advance(1);
    expect(sent).toEqual([0, 3_000]);
    keepAlive.onResponse(9);
    clock.advance(3_000);
    expect(sent).toEqual([0, 3_000, 6_000]);
    expect(keepAlive.lastTtlSeconds).toBe(9);
  });

  it("re-sends unanswered renewals and reports the loss when the TTL runs out", () => {
    const { clock, sent, keepAlive, lost } = setup(9);
    clock.advance(0);
    keepAlive.onResponse(9); // lease good until t=9000
    clock.advance(8_999);
    expect(lost).toEqual([]);
    expect(sent).toEqual([0, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000]);
    clock.advance(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.leaseId).toBe(7n);
    expect(lost[0]?.message).toMatch(/within its TTL/);
    expect(keepAlive.active).toBe(false);
    clock.advance(10_000);
    expect(sent).toHaveLength(7);
  });

  it("reports the loss when the server answers TTL 0, and stop() ends renewals silently", async () => {
    const a = setup();
    a.clock.advance(0);
    a.keepAlive.onResponse(0);
    expect((await a.keepAlive.lost).message).toMatch(/expired or revoked/);
    const b = setup(3);
    b.clock.advance(0);
    b.keepAlive.stop();
    b.clock.advance(60_000);
    expect(b.sent).toEqual([0]);
    expect(b.lost).toEqual([]);
  });
});
