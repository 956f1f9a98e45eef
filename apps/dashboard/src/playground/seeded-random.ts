import { assert } from "../assert.js";

/**
 * SeededRandom is the playground's only source of randomness: a small deterministic generator
 * (a 32-bit counter passed through an integer mixing function), so one seed replays one history exactly.
 * It is not for cryptography; it only has to be fast, well spread and identical in every browser.
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`);
    // Fold the high bits in so seeds above 2^32 still differ.
    this.#state = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
  }

  /** nextUint32 returns the next value in [0, 2^32). */
  nextUint32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
    return (z ^ (z >>> 15)) >>> 0;
  }

  /** int returns an integer in [0, n); n must be a positive safe integer up to 2^32. */
  int(n: number): number {
    assert(Number.isSafeInteger(n) && n > 0 && n <= 0x1_0000_0000, `int(n) needs 0 < n <= 2^32, got ${n}`);
    return Math.floor((this.nextUint32() / 0x1_0000_0000) * n);
  }

  /** between returns an integer in [lo, hi] (inclusive). */
  between(lo: number, hi: number): number {
    assert(lo <= hi, `between(${lo}, ${hi}): empty range`);
    return lo + this.int(hi - lo + 1);
  }
}
