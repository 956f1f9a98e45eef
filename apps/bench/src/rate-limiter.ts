/**
 * RateLimiter spaces operations to at most `perSecond` per second across all callers (a token bucket of
 * size 1, like etcd's `rate.NewLimiter(rate, 1)`). A rate of 0 means no limit and `wait` resolves at once.
 */
export class RateLimiter {
  private readonly intervalMs: number;
  private nextMs = 0;
  private readonly now: () => number;

  constructor(perSecond: number, now: () => number = () => performance.now()) {
    this.intervalMs = perSecond > 0 ? 1000 / perSecond : 0;
    this.now = now;
  }

  /** unlimited is true when the limiter never delays. */
  get unlimited(): boolean {
    return this.intervalMs === 0;
  }

  /** reserve books the next slot and returns how many milliseconds the caller must wait for it. */
  reserve(): number {
    if (this.intervalMs === 0) return 0;
    const now = this.now();
    const slot = Math.max(now, this.nextMs);
    this.nextMs = slot + this.intervalMs;
    return slot - now;
  }

  /** wait resolves when the caller may start its next operation. */
  async wait(): Promise<void> {
    const delayMs = this.reserve();
    // setTimeout has millisecond granularity; sub-millisecond waits are folded into the next slot.
    if (delayMs >= 1) await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
