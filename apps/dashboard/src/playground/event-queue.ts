import { assert } from "../assert.js";

/**
 * EventQueue is a min-heap of scheduled simulation events ordered by (time, priority, insertion order), so
 * events at the same instant always run in the same order: that is what makes a seed replay exactly.
 */
export class EventQueue<T> {
  readonly #heap: Array<{ at: number; priority: number; seq: number; value: T }> = [];
  #seq = 0;

  /** size is the number of scheduled events. */
  get size(): number {
    return this.#heap.length;
  }

  /** push schedules `value` at time `at`; lower `priority` runs first among events at the same time. */
  push(at: number, priority: number, value: T): void {
    assert(Number.isFinite(at), `event time must be finite, got ${at}`);
    this.#heap.push({ at, priority, seq: this.#seq++, value });
    this.#up(this.#heap.length - 1);
  }

  /** peekTime is the time of the earliest event, or undefined when the queue is empty. */
  peekTime(): number | undefined {
    return this.#heap[0]?.at;
  }

  /** pop removes and returns the earliest event. */
  pop(): { at: number; value: T } | undefined {
    const top = this.#heap[0];
    if (top === undefined) return undefined;
    const last = this.#heap.pop();
    if (last !== undefined && this.#heap.length > 0) {
      this.#heap[0] = last;
      this.#down(0);
    }
    return { at: top.at, value: top.value };
  }

  #less(i: number, j: number): boolean {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    if (a.at !== b.at) return a.at < b.at;
    if (a.priority !== b.priority) return a.priority < b.priority;
    return a.seq < b.seq;
  }

  #swap(i: number, j: number): void {
    const t = this.#heap[i]!;
    this.#heap[i] = this.#heap[j]!;
    this.#heap[j] = t;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < this.#heap.length && this.#less(l, smallest)) smallest = l;
      if (r < this.#heap.length && this.#less(r, smallest)) smallest = r;
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }
}
