import { assert } from "./assert.js";

/**
 * IdGenerator makes request ids unique across members and restarts, the way etcd does: the top 16 bits
 * are the low bits of the member id, the next 40 bits the start time in milliseconds, and the low 8 bits
 * a counter that overflows into the time bits. An id is never reused while the clock does not go back
 * more than the run's length.
 */
export class IdGenerator {
  #prefix: bigint;
  #suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    assert(Number.isSafeInteger(nowMs) && nowMs >= 0, "nowMs must be a non-negative integer");
    this.#prefix = (memberId & 0xffffn) << 48n;
    this.#suffix = (BigInt(nowMs) & 0xff_ffff_ffffn) << 8n;
  }

  /** next returns a new id. */
  next(): bigint {
    this.#suffix = (this.#suffix + 1n) & 0xffff_ffff_ffffn;
    return this.#prefix | this.#suffix;
  }
}
