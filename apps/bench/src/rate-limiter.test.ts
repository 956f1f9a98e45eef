import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.js";

describe("RateLimiter", () => {
  it("spaces reservations 1/rate apart and never delays when unlimited", () => {
    let now = 0;
    const limiter = new RateLimiter(100, () => now);
    expect(limiter.reserve()).toBe(0);
    expect(limiter.reserve()).toBe(10);
    expect(limiter.reserve()).toBe(20);
    now = 100; // idle time is not banked beyond one token
    expect(limiter.reserve()).toBe(0);
    expect(limiter.reserve()).toBe(10);
    const unlimited = new RateLimiter(0, () => now);
    expect(unlimited.unlimited).toBe(true);
    expect(unlimited.reserve()).toBe(0);
  });
});
