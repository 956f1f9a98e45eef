/**
 * AsyncQueue: values pushed by a producer, pulled by one `for await` consumer. It ends when closed, and
 * throws the failure it was closed with after the buffered values are drained. `maxSize` bounds the buffer:
 * pushing beyond it fails the queue instead of growing without limit.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private readonly maxSize: number;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private done = false;
  private failure: { error: unknown } | undefined;
  private iterator: AsyncIterator<T> | undefined;

  constructor(maxSize = Number.POSITIVE_INFINITY) {
    this.maxSize = maxSize;
  }

  /** size is the number of values buffered. */
  get size(): number {
    return this.buffer.length;
  }

  /** closed is true once close() or fail() was called. */
  get closed(): boolean {
    return this.done;
  }

  /** push adds a value; it returns false when the queue is closed or (then failing it) full. */
  push(value: T): boolean {
    if (this.done) return false;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve({ value, done: false });
      return true;
    }
    if (this.buffer.length >= this.maxSize) {
      this.fail(new Error(`etcd-ts client: consumer too slow, more than ${this.maxSize} values buffered`));
      return false;
    }
    this.buffer.push(value);
    return true;
  }

  /** close ends the iteration after the buffered values. */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.wake();
  }

  /** fail ends the iteration with `error` after the buffered values. */
  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failure = { error };
    this.wake();
  }

  /** clear drops the buffered values. */
  clear(): void {
    this.buffer.length = 0;
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    if (this.failure !== undefined) waiter.reject(this.failure.error);
    else waiter.resolve({ value: undefined, done: true });
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.done) {
      if (this.failure !== undefined) {
        const { error } = this.failure;
        this.failure = undefined;
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Every call returns the same iterator: there is one consumer (Connect asks again to close the stream). */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    this.iterator ??= {
      next: () => this.next(),
      return: async () => {
        this.close();
        this.buffer.length = 0;
        return { value: undefined, done: true };
      },
      // Connect calls throw() on the request iterable when the call fails; the consumer is then done.
      throw: async (error: unknown) => {
        this.fail(error);
        this.buffer.length = 0;
        return { value: undefined, done: true };
      },
    };
    return this.iterator;
  }
}
