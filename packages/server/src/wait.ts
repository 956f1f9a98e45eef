import { assert } from "./assert.js";

/**
 * Wait is the registry of proposals waiting to be applied: the API layer registers a request id before it
 * proposes, the applier triggers the id with the result when the entry is applied (on this member only
 * the proposer is waiting; other members trigger nothing). Bounded: registering past `maxPending` fails,
 * so a flood of proposals cannot grow it without limit.
 */
export class Wait<T> {
  readonly #pending = new Map<bigint, { resolve: (value: T) => void; reject: (err: unknown) => void }>();
  readonly maxPending: number;

  constructor(maxPending: number) {
    assert(maxPending > 0, "maxPending must be positive");
    this.maxPending = maxPending;
  }

  /** register returns a promise settled by `trigger` or `fail` for the id, or undefined when full. */
  register(id: bigint): Promise<T> | undefined {
    assert(!this.#pending.has(id), `duplicate request id ${id}`);
    if (this.#pending.size >= this.maxPending) return undefined;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
  }

  /** isRegistered tells whether a proposal with this id is waiting here. */
  isRegistered(id: bigint): boolean {
    return this.#pending.has(id);
  }

  /** trigger settles the waiter for id with the value; unknown ids (other members' proposals) are ignored. */
  trigger(id: bigint, value: T): void {
    const waiter = this.#pending.get(id);
    if (waiter === undefined) return;
    this.#pending.delete(id);
    waiter.resolve(value);
  }

  /** fail rejects the waiter for id (timeout, dropped proposal). */
  fail(id: bigint, err: unknown): void {
    const waiter = this.#pending.get(id);
    if (waiter === undefined) return;
    this.#pending.delete(id);
    waiter.reject(err);
  }

  /** failAll rejects every waiter (the server stops). */
  failAll(err: unknown): void {
    for (const [id, waiter] of this.#pending) {
      this.#pending.delete(id);
      waiter.reject(err);
    }
  }

  /** size is the number of waiting proposals. */
  get size(): number {
    return this.#pending.size;
  }
}
