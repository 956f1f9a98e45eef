import { assert } from "./assert.js";

/**
 * READ_INDEX_RETRY_MS is how long a read index request may go unanswered before it is sent again (etcd's
 * readIndexRetryTime). Raft drops a request without a word when there is no leader, when it went to a
 * leader that died, stopped or was partitioned away, or when the leader was deposed while it waited for
 * its heartbeat quorum; nothing would ever answer it, so without a resend the reads behind it would wait
 * for the whole request timeout.
 */
export const READ_INDEX_RETRY_MS = 500;

/** ReadIndexHooks connect the read batcher to raft and to the applied index. */
export interface ReadIndexHooks {
  /**
   * requestReadIndex asks raft for a read index, tagged with `context`. Raft may drop the request (no
   * leader): the batcher sends it again every retry interval, so this must not throw for that. A throw
   * fails the reads of the request.
   */
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
  /** leaderChangedError is what the reads in flight get when a new leader is elected (clients retry it). */
  leaderChangedError(): Error;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Inflight is the one read index request raft has been asked for and not yet answered. */
interface Inflight {
  readonly context: string;
  readonly contextBytes: Uint8Array;
  readonly waiters: Waiter[];
  /** errorTimer fails the request after the request timeout, however often it was resent. */
  readonly errorTimer: NodeJS.Timeout;
  /** retryTimer resends the request; undefined only while it is being sent. */
  retryTimer: NodeJS.Timeout | undefined;
}

/**
 * ReadIndexBatcher makes linearizable reads cheap under load: all reads that arrive while a read index
 * request is in flight share the NEXT request (one quorum round for many reads), and each read is released
 * once the member has applied up to the index the leader confirmed. A read never shares a request that was
 * issued before it arrived, which would not be linearizable.
 *
 * Like etcd's linearizableReadLoop it keeps reads live across leader changes: an unanswered request is
 * resent every retry interval (with the same context, so whichever answer comes first releases it), and
 * when a new leader is elected the request in flight fails at once with "leader changed" (retryable)
 * instead of waiting out the request timeout for an answer the old leader will never send.
 */
export class ReadIndexBatcher {
  readonly #hooks: ReadIndexHooks;
  readonly #timeoutMs: number;
  readonly #maxWaiting: number;
  readonly #retryMs: number;
  #waiting: Waiter[] = [];
  #inflight: Inflight | undefined;

  constructor(hooks: ReadIndexHooks, timeoutMs: number, maxWaiting: number, retryMs = READ_INDEX_RETRY_MS) {
    assert(timeoutMs > 0 && maxWaiting > 0 && retryMs > 0, "read index bounds must be positive");
    this.#hooks = hooks;
    this.#timeoutMs = timeoutMs;
    this.#maxWaiting = maxWaiting;
    this.#retryMs = retryMs;
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
    const inflight: Inflight = {
      context: Buffer.from(contextBytes).toString("hex"),
      contextBytes,
      waiters,
      errorTimer: setTimeout(() => this.#fail(inflight, this.#hooks.timeoutError()), this.#timeoutMs),
      retryTimer: undefined,
    };
    this.#inflight = inflight;
    this.#send(inflight);
  }

  /** send asks raft (again) for the read index of `inflight` and arms the resend. */
  #send(inflight: Inflight): void {
    assert(this.#inflight === inflight, "only the request in flight is sent");
    inflight.retryTimer = undefined;
    try {
      this.#hooks.requestReadIndex(inflight.contextBytes);
    } catch (err) {
      this.#fail(inflight, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    inflight.retryTimer = setTimeout(() => {
      if (this.#inflight === inflight) this.#send(inflight);
    }, this.#retryMs);
  }

  /** fail rejects the reads of `inflight` (if it is still in flight) and asks for the reads behind it. */
  #fail(inflight: Inflight, err: Error): void {
    if (this.#inflight !== inflight) return;
    this.#clear(inflight);
    for (const waiter of inflight.waiters) waiter.reject(err);
    this.#issue();
  }

  #clear(inflight: Inflight): void {
    assert(this.#inflight === inflight, "only the request in flight is cleared");
    clearTimeout(inflight.errorTimer);
    if (inflight.retryTimer !== undefined) clearTimeout(inflight.retryTimer);
    this.#inflight = undefined;
  }

  /** onReadIndex is raft's answer: the reads of `context` may go once `index` is applied. */
  onReadIndex(contextBytes: Uint8Array, index: number): void {
    const context = Buffer.from(contextBytes).toString("hex");
    const inflight = this.#inflight;
    // A late answer to a request that timed out or failed, or a second answer to a resent one.
    if (inflight === undefined || inflight.context !== context) return;
    this.#clear(inflight);
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

  /**
   * onLeaderChange is told that a new leader was elected. The request in flight went to the old leader
   * (or was dropped while there was none), so its reads fail now with "leader changed", as in etcd, and
   * the client retries them; the reads waiting behind it get a fresh request, which goes to the new leader.
   */
  onLeaderChange(): void {
    if (this.#inflight !== undefined) this.#fail(this.#inflight, this.#hooks.leaderChangedError());
  }

  /** failAll rejects every waiting read (the server stops). */
  failAll(err: Error): void {
    if (this.#inflight !== undefined) {
      const inflight = this.#inflight;
      this.#clear(inflight);
      for (const waiter of inflight.waiters) waiter.reject(err);
    }
    for (const waiter of this.#waiting.splice(0)) waiter.reject(err);
  }
}
