import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { RateLimiter } from "./rate-limiter.js";

describe("RateLimiter", () => {
  it("starts with one second's worth, refills with time, and never holds more", () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, 100);
    expect(limiter.available()).toBe(100);
    limiter.take(100);
    expect(limiter.available()).toBe(0);
    clock.advance(15);
    expect(limiter.available()).toBe(1);
    clock.advance(5);
    expect(limiter.available()).toBe(2);
    clock.advance(1_000_000);
    expect(limiter.available()).toBe(100);
    limiter.take(40);
    limiter.reset();
    expect(limiter.available()).toBe(100);
  });

  it("refuses to take more than is available", () => {
    const limiter = new RateLimiter(new ManualClock(0), 3);
    expect(() => limiter.take(4)).toThrow(/taking 4/);
  });
});
