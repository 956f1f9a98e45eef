import { keyBytes, keyString } from "./key-string.js";
import type { LeaseBatch, LeaseReader } from "./lease-backend.js";

/**
 * MemoryLeaseBackend is an in-memory stand-in for the lease sublevel, for tests and examples: `batch()`
 * collects operations and `commit` applies them atomically, like the server writing one backend batch
 * per raft entry.
 */
export class MemoryLeaseBackend implements LeaseReader {
  private readonly data = new Map<string, Uint8Array>();

  /** batch starts an empty batch; nothing is visible until {@link commit}. */
  batch(): MemoryLeaseBatch {
    return new MemoryLeaseBatch();
  }

  /** commit applies every operation of `batch`, in order. */
  commit(batch: MemoryLeaseBatch): void {
    for (const op of batch.operations) {
      if (op.value === undefined) {
        this.data.delete(op.key);
      } else {
        this.data.set(op.key, op.value);
      }
    }
  }

  /** size is the number of stored records. */
  get size(): number {
    return this.data.size;
  }

  /** entries iterates the records in key order. */
  async *entries(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    for (const name of [...this.data.keys()].sort()) {
      yield [keyBytes(name), this.data.get(name)!.slice()] as const;
    }
  }
}

/** MemoryLeaseBatch is a pending batch of a {@link MemoryLeaseBackend}. */
export class MemoryLeaseBatch implements LeaseBatch {
  /** operations are the puts (with a value) and deletes (without), in order. */
  readonly operations: { readonly key: string; readonly value: Uint8Array | undefined }[] = [];

  /** put records a write of `value` under `key` (both copied). */
  put(key: Uint8Array, value: Uint8Array): void {
    this.operations.push({ key: keyString(key), value: value.slice() });
  }

  /** del records a delete of `key`. */
  del(key: Uint8Array): void {
    this.operations.push({ key: keyString(key), value: undefined });
  }
}
