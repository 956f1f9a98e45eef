import type { ChainedBatch, ClassicLevel } from "classic-level";
import type { LeaseBatch, LeaseReader } from "./lease-backend.js";

/** DEFAULT_LEASE_SUBLEVEL is the sublevel name the lessor's records live under in the member's backend. */
export const DEFAULT_LEASE_SUBLEVEL = "lease";

/**
 * LevelLeaseBackend adapts a sublevel of the member's classic-level database to the lessor's
 * {@link LeaseReader} and {@link LeaseBatch}. Keys and values are raw bytes ("view" encoding).
 *
 * The server opens one database, creates one `db.batch()` per applied raft entry, hands
 * `backend.batch(chained)` to the lessor, and writes the chained batch itself.
 */
export class LevelLeaseBackend<K = string, V = string> implements LeaseReader {
  // Private so that abstract-level's types (not a direct dependency) stay out of our declarations.
  private readonly sublevel;

  constructor(db: ClassicLevel<K, V>, name: string = DEFAULT_LEASE_SUBLEVEL) {
    this.sublevel = db.sublevel<Uint8Array, Uint8Array>(name, { keyEncoding: "view", valueEncoding: "view" });
  }

  /** entries iterates the sublevel in key order. */
  async *entries(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    for await (const [key, value] of this.sublevel.iterator()) {
      yield [key, value] as const;
    }
  }

  /** batch scopes the caller's chained batch on the parent database to the lease sublevel. */
  batch(chained: ChainedBatch<ClassicLevel<K, V>, K, V>): LeaseBatch {
    const sublevel = this.sublevel;
    return {
      put(key: Uint8Array, value: Uint8Array): void {
        chained.put(key, value, { sublevel });
      },
      del(key: Uint8Array): void {
        chained.del(key, { sublevel });
      },
    };
  }
}

/**
 * LevelSublevelLike is the structural shape of a classic-level sublevel opened with `{ keyEncoding: "view",
 * valueEncoding: "view" }`, as far as recovery needs it.
 */
export interface LevelSublevelLike {
  iterator(): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/**
 * sublevelLeaseReader adapts a lease sublevel the server already opened to a {@link LeaseReader}, for a
 * server that scopes its own batches (then it needs no {@link LevelLeaseBackend}).
 */
export function sublevelLeaseReader(sublevel: LevelSublevelLike): LeaseReader {
  return {
    async *entries(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
      for await (const [key, value] of sublevel.iterator()) {
        yield [key, value] as const;
      }
    },
  };
}
