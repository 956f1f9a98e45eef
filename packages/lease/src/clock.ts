import { assert } from "./assert.js";

/**
 * Clock is where the lessor gets the time: milliseconds on a clock that never goes backwards (use
 * `performance.now()` plus an offset, not wall time, in production). Injected so that tests and
 * simulations decide what time it is.
 */
export interface Clock {
  now(): number;
}

/**
 * ManualClock is a {@link Clock} that only moves when told to, for tests, simulations and examples.
 */
export class ManualClock implements Clock {
  private currentMs: number;

  constructor(startMs = 0) {
    assert(Number.isFinite(startMs), "clock start must be finite");
    this.currentMs = startMs;
  }

  /** now returns the current time in milliseconds. */
  now(): number {
    return this.currentMs;
  }

  /** advance moves the clock forward by `deltaMs` (>= 0). */
  advance(deltaMs: number): void {
    assert(Number.isFinite(deltaMs) && deltaMs >= 0, `cannot move the clock by ${deltaMs} ms`);
    this.currentMs += deltaMs;
  }

  /** set moves the clock to `timeMs`, which must not be in the past. */
  set(timeMs: number): void {
    assert(Number.isFinite(timeMs) && timeMs >= this.currentMs, `cannot move the clock back to ${timeMs}`);
    this.currentMs = timeMs;
  }
}
