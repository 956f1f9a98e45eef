import { ManualClock } from "./clock.js";
import { keyString } from "./key-string.js";
import type { LeaseBatch } from "./lease-backend.js";
import type { LessorConfig, RangeDeleter } from "./lessor.js";
import { Lessor } from "./lessor.js";
import { MemoryLeaseBackend } from "./memory-lease-backend.js";

/** FakeKv stands in for mvcc: keys with a lease, a revision counter, and the lessor hooks mvcc would call. */
export class FakeKv implements RangeDeleter {
  revision = 1;
  readonly data = new Map<string, bigint>();
  deleteCalls = 0;

  constructor(private readonly lessors: () => readonly Lessor[]) {}

  /** put writes one key in its own revision and tells every lessor. */
  put(key: string, lease: bigint): void {
    this.revision += 1;
    this.data.set(key, lease);
    for (const lessor of this.lessors()) {
      lessor.recordPut(bytes(key), lease);
    }
  }

  /** del deletes one key in its own revision. */
  del(key: string): void {
    this.revision += 1;
    this.data.delete(key);
    for (const lessor of this.lessors()) {
      lessor.recordDelete(bytes(key));
    }
  }

  deleteKeys(keys: readonly Uint8Array[]): void {
    this.deleteCalls += 1;
    this.revision += 1; // ONE revision for the whole revoke
    for (const key of keys) {
      this.data.delete(keyString(key));
      for (const lessor of this.lessors()) {
        lessor.recordDelete(key);
      }
    }
  }
}

/** bytes encodes a test key. */
export function bytes(key: string): Uint8Array {
  return new TextEncoder().encode(key);
}

/** text decodes keys for assertions. */
export function text(keys: readonly Uint8Array[]): string[] {
  return keys.map((k) => new TextDecoder().decode(k));
}

/** Harness is one member: a lessor over a memory backend, with an apply helper writing one batch. */
export interface Harness {
  readonly clock: ManualClock;
  readonly backend: MemoryLeaseBackend;
  readonly lessor: Lessor;
  apply<T>(fn: (batch: LeaseBatch) => T): T;
}

/** harness builds a member on `clock` (a fresh one by default). */
export function harness(config: Partial<LessorConfig> = {}, clock = new ManualClock(1_000_000)): Harness {
  const backend = new MemoryLeaseBackend();
  const lessor = new Lessor({ clock, minTtlSeconds: 2, ...config });
  return {
    clock,
    backend,
    lessor,
    apply<T>(fn: (batch: LeaseBatch) => T): T {
      const batch = backend.batch();
      const result = fn(batch);
      backend.commit(batch);
      return result;
    },
  };
}
