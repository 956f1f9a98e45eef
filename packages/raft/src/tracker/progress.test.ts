import { describe, expect, it } from "vitest";
import { Inflights } from "./inflights.js";
import { Progress, ProgressState } from "./progress.js";

const mk = (match: number, next: number, state: ProgressState = ProgressState.Probe) => {
  const p = new Progress(next, new Inflights(4), false);
  p.match = match;
  p.state = state;
  return p;
};

describe("Progress", () => {
  it("maybeUpdate raises match and next, never lowers them", () => {
    const p = mk(3, 5);
    expect(p.maybeUpdate(2)).toBe(false);
    expect([p.match, p.next]).toEqual([3, 5]);
    expect(p.maybeUpdate(4)).toBe(true);
    expect([p.match, p.next]).toEqual([4, 5]);
    expect(p.maybeUpdate(6)).toBe(true);
    expect([p.match, p.next]).toEqual([6, 7]);
  });

  it("maybeDecrTo ignores stale rejections and uses the hint in probe state", () => {
    const r = mk(5, 10, ProgressState.Replicate);
    expect(r.maybeDecrTo(5, 5)).toBe(false); // rejected <= match: stale
    expect(r.maybeDecrTo(9, 9)).toBe(true);
    expect(r.next).toBe(6);
    const p = mk(0, 10);
    expect(p.maybeDecrTo(5, 5)).toBe(false); // not the last probe (next-1 = 9)
    expect(p.maybeDecrTo(9, 3)).toBe(true);
    expect(p.next).toBe(4);
    const q = mk(0, 2);
    expect(q.maybeDecrTo(1, 0)).toBe(true);
    expect(q.next).toBe(1); // never below 1
  });

  it("is paused while a probe is outstanding, a window is full, or a snapshot is in flight", () => {
    const p = mk(0, 1);
    expect(p.isPaused()).toBe(false);
    p.updateOnEntriesSend(1, 1, 1);
    expect(p.isPaused()).toBe(true);
    p.becomeReplicate();
    expect(p.isPaused()).toBe(false);
    for (let i = 0; i < 4; i++) p.updateOnEntriesSend(1, 1, p.next);
    expect(p.isPaused()).toBe(true);
    p.becomeSnapshot(10);
    expect(p.isPaused()).toBe(true);
    p.becomeProbe();
    expect(p.next).toBe(11); // after the snapshot
  });
});
