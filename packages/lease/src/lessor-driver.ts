import { assert } from "./assert.js";
import type { LeaseId } from "./lease-id.js";
import type { LeaseCheckpoint, Lessor } from "./lessor.js";

/** DEFAULT_DRIVER_INTERVAL_MS is how often the driver polls the lessor (etcd checks every 500 ms). */
export const DEFAULT_DRIVER_INTERVAL_MS = 500;

/**
 * LessorDriverHooks is how the driver hands the primary's decisions to the server, which proposes them
 * through raft. Both are fire-and-forget from the driver's point of view: a lost proposal is retried by the
 * lessor (expired leases are handed out again; checkpoints come round again next interval).
 */
export interface LessorDriverHooks {
  /** revoke proposes a LeaseRevoke for each id. */
  revoke(ids: readonly LeaseId[]): void;
  /** checkpoint proposes one LeaseCheckpointRequest carrying all of `checkpoints`. */
  checkpoint(checkpoints: readonly LeaseCheckpoint[]): void;
}

/**
 * LessorDriver polls a {@link Lessor} on a timer and passes expired leases and due checkpoints to the
 * server. It is the only part of the package that uses timers; `new` builds it, {@link start} starts it.
 * Tests drive the lessor directly, or call {@link poll}.
 */
export class LessorDriver {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly lessor: Lessor,
    private readonly hooks: LessorDriverHooks,
    private readonly intervalMs: number = DEFAULT_DRIVER_INTERVAL_MS,
  ) {
    assert(intervalMs > 0, `bad driver interval ${intervalMs}`);
  }

  /** running tells whether the timer is running. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** start polls every `intervalMs` until {@link stop}. Starting twice is a no-op. */
  start(): void {
    if (this.timer !== undefined) {
      return;
    }
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref?.();
  }

  /** stop cancels the timer. */
  stop(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * poll does one round: at most one rate-limited batch of expired leases and one bounded batch of
   * checkpoints. A follower's lessor hands out nothing, so polling on every member is safe.
   */
  poll(): void {
    const expired = this.lessor.findExpired();
    if (expired.length > 0) {
      this.hooks.revoke(expired);
    }
    const checkpoints = this.lessor.findDueCheckpoints();
    if (checkpoints.length > 0) {
      this.hooks.checkpoint(checkpoints);
    }
  }
}
