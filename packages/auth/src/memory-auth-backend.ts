import type { AuthBackendReader, AuthBatch } from "./auth-backend.js";
import { compareKeys } from "./key-interval.js";

/**
 * MemoryAuthBackend is an in-memory auth sublevel for tests and tools: `batch()` hands out an
 * {@link AuthBatch} whose writes land on `write()`, and the backend itself is an {@link AuthBackendReader}.
 */
export class MemoryAuthBackend implements AuthBackendReader {
  readonly #data = new Map<string, { key: Uint8Array; value: Uint8Array }>();

  /** batch starts a batch; nothing is visible until its `write()` is called. */
  batch(): AuthBatch & { write(): void; readonly size: number } {
    const ops: Array<{ key: Uint8Array; value: Uint8Array | undefined }> = [];
    return {
      put: (key, value) => {
        ops.push({ key: key.slice(), value: value.slice() });
      },
      del: (key) => {
        ops.push({ key: key.slice(), value: undefined });
      },
      write: () => {
        for (const op of ops) {
          const id = Buffer.from(op.key).toString("hex");
          if (op.value === undefined) this.#data.delete(id);
          else this.#data.set(id, { key: op.key, value: op.value });
        }
        ops.length = 0;
      },
      get size() {
        return ops.length;
      },
    };
  }

  /** size is the number of stored keys. */
  get size(): number {
    return this.#data.size;
  }

  async *entries(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    const sorted = [...this.#data.values()].sort((a, b) => compareKeys(a.key, b.key));
    for (const { key, value } of sorted) yield [key, value] as const;
  }
}
