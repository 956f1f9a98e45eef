import { assert } from "./assert.js";

/**
 * RequestStream is the request side of a bidi gRPC stream: `push` queues a message, the transport pulls them
 * through the async iterator, `end` half-closes. Bounded by `limit` queued messages (a caller that pushes
 * faster than the transport sends is a bug in the benchmark, not load to absorb).
 */
export class RequestStream<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;
  private readonly limit: number;

  constructor(limit = 100_000) {
    this.limit = limit;
  }

  /** push queues one message for sending. */
  push(message: T): void {
    assert(!this.ended, "push after end");
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting({ value: message, done: false });
      return;
    }
    assert(this.queue.length < this.limit, `more than ${this.limit} queued stream messages`);
    this.queue.push(message);
  }

  /** end half-closes the stream once the queued messages are sent. */
  end(): void {
    this.ended = true;
    const waiting = this.waiting;
    if (waiting !== undefined && this.queue.length === 0) {
      this.waiting = undefined;
      waiting({ value: undefined, done: true });
    }
  }

  private stop(): Promise<IteratorResult<T>> {
    this.ended = true;
    this.queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const message = this.queue.shift();
        if (message !== undefined) return Promise.resolve({ value: message, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: () => this.stop(),
      // connect-node calls throw when the call is aborted; the stream just ends.
      throw: () => this.stop(),
    };
  }
}
