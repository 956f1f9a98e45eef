/**
 * AsyncQueue: the request side of a bidirectional stream (watch, lease keep-alive). Values pushed are
 * yielded in order; close() ends the iteration. Bounded: pushing past `limit` unread values is a bug.
 */
import { assert } from "./assert.js";

/** AsyncQueue is an unbounded-in-time, bounded-in-size async iterable fed by push(). */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;
  private readonly limit: number;

  constructor(limit = 1024) {
    this.limit = limit;
  }

  /** push adds a value. */
  push(item: T): void {
    assert(this.items.length < this.limit, "async queue over its limit");
    this.items.push(item);
    this.waiter?.();
  }

  /** close ends the iteration once the queued values are read. */
  close(): void {
    this.closed = true;
    this.waiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }
}
