import type { KeyValue } from "@etcd-ts/proto/mvccpb";
import { assert } from "./assert.js";
import type { Revision } from "./revision.js";

/** Limits of the recent-values cache (TigerBeetle style: bounded in entries and in bytes). */
export const recentValuesLimits = {
  maxEntries: 8192,
  maxBytes: 32 * 1024 * 1024,
  /** Values larger than this are never cached (one would push out thousands of small ones). */
  maxValueBytes: 256 * 1024,
} as const;

/**
 * RecentValues keeps the decoded KeyValues of the newest committed revisions, so that reads of hot keys
 * (a range, a txn compare, the previous value a watcher asked for) are answered without a backend round
 * trip and a decode. A revision's value never changes, so an entry is correct for as long as the index
 * points at its revision; compacted revisions are simply never asked for again and age out. Entries are
 * frozen: they are shared by every reader, and one that wrote to an entry would fail loudly instead of
 * changing what later reads see. Eviction is first in, first out (writes arrive in revision order).
 */
export class RecentValues {
  readonly #entries = new Map<string, KeyValue>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(
    maxEntries: number = recentValuesLimits.maxEntries,
    maxBytes: number = recentValuesLimits.maxBytes,
  ) {
    assert(maxEntries > 0 && maxBytes > 0, "recent values: limits must be positive");
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** get returns the cached value of a revision, or undefined. */
  get(revision: Revision): KeyValue | undefined {
    return this.#entries.get(cacheKey(revision));
  }

  /** add caches a frozen copy of a revision's value; a value too large is skipped. */
  add(revision: Revision, kv: KeyValue): void {
    assert(BigInt(revision.main) === kv.modRevision, "recent values: revision and value disagree");
    const size = sizeOf(kv);
    if (size > recentValuesLimits.maxValueBytes) return;
    const key = cacheKey(revision);
    if (this.#entries.has(key)) return;
    // A value decoded from a raft entry is a view into the whole peer message or WAL segment it came in:
    // the cache keeps its own compact copy (and the caller's object stays as it is).
    this.#entries.set(key, Object.freeze({ ...kv, key: compact(kv.key), value: compact(kv.value) }));
    this.#bytes += size;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.entries().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value[0]);
      this.#bytes -= sizeOf(oldest.value[1]);
    }
    assert(this.#bytes >= 0, "recent values: negative size");
  }

  /** clear forgets everything (the store's state was replaced). */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

/** compact returns bytes that own their buffer (a copy when `bytes` is a view into a larger one). */
function compact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function cacheKey(revision: Revision): string {
  return `${revision.main}_${revision.sub}`;
}

/** sizeOf approximates an entry's memory: its key and value bytes plus a fixed object overhead. */
function sizeOf(kv: KeyValue): number {
  return kv.key.length + kv.value.length + 128;
}
