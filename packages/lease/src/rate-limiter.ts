import { assert } from "./assert.js";
import type { Clock } from "./clock.js";

/**
 * RateLimiter is a token bucket driven by an injected clock: `ratePerSecond` tokens a second, holding at
 * most one second's worth, so that a burst after a long pause is still bounded by the rate.
 */
export class RateLimiter {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly clock: Clock,
    readonly ratePerSecond: number,
  ) {
    assert(ratePerSecond > 0 && Number.isFinite(ratePerSecond), `bad rate ${ratePerSecond}`);
    this.tokens = ratePerSecond;
    this.lastMs = clock.now();
  }

  /** available returns how many whole tokens can be taken now. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** take consumes `count` tokens, which must be available. */
  take(count: number): void {
    this.refill();
    assert(count >= 0 && count <= Math.floor(this.tokens), `taking ${count} of ${this.tokens} tokens`);
    this.tokens -= count;
  }

  /** reset fills the bucket, for a new term as primary. */
  reset(): void {
    this.tokens = this.ratePerSecond;
    this.lastMs = this.clock.now();
  }

  private refill(): void {
    const nowMs = this.clock.now();
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(
        this.ratePerSecond,
        this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000,
      );
    }
    this.lastMs = Math.max(this.lastMs, nowMs);
  }
}
