import { assert } from "./assert.js";

/**
 * AppliedIndex is the member's applied raft index with a way to wait for it to reach a value. It only
 * grows (asserted).
 */
export class AppliedIndex {
  #value: number;
  #waiters: Array<{ index: number; resolve: () => void }> = [];

  constructor(initial: number) {
    this.#value = initial;
  }

  get value(): number {
    return this.#value;
  }

  /** advance moves the applied index forward and releases the waiters it reached. */
  advance(index: number): void {
    assert(index >= this.#value, `applied index went back from ${this.#value} to ${index}`);
    this.#value = index;
    if (this.#waiters.length === 0) return;
    const still: Array<{ index: number; resolve: () => void }> = [];
    for (const waiter of this.#waiters) {
      if (waiter.index <= index) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  /** wait resolves once the applied index is at least `index`. */
  wait(index: number): Promise<void> {
    if (index <= this.#value) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ index, resolve }));
  }
}
