import { assert } from "./assert.js";

/** ReadIndexHooks connect the read batcher to raft and to the applied index. */
export interface ReadIndexHooks {
  /** requestReadIndex asks raft for a read index, tagged with `context`. */
  requestReadIndex(context: Uint8Array): void;
  /**
   * nextContextId returns the id that tags the next read index request. It must be unique across members
   * and restarts (the server's request id generator): the leader keeps one pending request per context and
   * drops a second one with the same context, so a context that two members both use starves one of them.
   */
  nextContextId(): bigint;
  /** waitApplied resolves once the member has applied up to `index`. */
  waitApplied(index: number): Promise<void>;
  /** timeoutError is what waiting reads get when raft does not answer in time (no leader, partition). */
  timeoutError(): Error;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * ReadIndexBatcher makes linearizable reads cheap under load: all reads that arrive while a read index
 * request is in flight share the NEXT request (one quorum round for many reads), and each read is released
 * once the member has applied up to the index the leader confirmed. A read never shares a request that was
 * issued before it arrived, which would not be linearizable.
 */
export class ReadIndexBatcher {
  readonly #hooks: ReadIndexHooks;
  readonly #timeoutMs: number;
  readonly #maxWaiting: number;
  #waiting: Waiter[] = [];
  #inflight: { context: string; waiters: Waiter[]; timer: NodeJS.Timeout } | undefined;

  constructor(hooks: ReadIndexHooks, timeoutMs: number, maxWaiting: number) {
    assert(timeoutMs > 0 && maxWaiting > 0, "read index bounds must be positive");
    this.#hooks = hooks;
    this.#timeoutMs = timeoutMs;
    this.#maxWaiting = maxWaiting;
  }

  /** read resolves when a linearizable read may be served from the local store. */
  read(): Promise<void> {
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(new Error("etcdserver: too many requests"));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#issue();
    });
  }

  #issue(): void {
    if (this.#inflight !== undefined || this.#waiting.length === 0) return;
    const contextBytes = new Uint8Array(8);
    new DataView(contextBytes.buffer).setBigUint64(0, this.#hooks.nextContextId(), false);
    const waiters = this.#waiting;
    this.#waiting = [];
    const timer = setTimeout(() => {
      if (this.#inflight?.context !== context) return;
      this.#inflight = undefined;
      const err = this.#hooks.timeoutError();
      for (const waiter of waiters) waiter.reject(err);
      this.#issue();
    }, this.#timeoutMs);
    const context = Buffer.from(contextBytes).toString("hex");
    this.#inflight = { context, waiters, timer };
    this.#hooks.requestReadIndex(contextBytes);
  }

  /** onReadIndex is raft's answer: the reads of `context` may go once `index` is applied. */
  onReadIndex(contextBytes: Uint8Array, index: number): void {
    const context = Buffer.from(contextBytes).toString("hex");
    const inflight = this.#inflight;
    if (inflight === undefined || inflight.context !== context) return; // a late answer to a timed-out request
    clearTimeout(inflight.timer);
    this.#inflight = undefined;
    this.#hooks.waitApplied(index).then(
      () => {
        for (const waiter of inflight.waiters) waiter.resolve();
      },
      (err: Error) => {
        for (const waiter of inflight.waiters) waiter.reject(err);
      },
    );
    this.#issue();
  }

  /** failAll rejects every waiting read (the server stops). */
  failAll(err: Error): void {
    if (this.#inflight !== undefined) {
      clearTimeout(this.#inflight.timer);
      for (const waiter of this.#inflight.waiters) waiter.reject(err);
      this.#inflight = undefined;
    }
    for (const waiter of this.#waiting.splice(0)) waiter.reject(err);
  }
}
