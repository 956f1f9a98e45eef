import fs from "node:fs";
import path from "node:path";
import { ClassicLevel } from "classic-level";
import { assert } from "./assert.js";

type Bytes = Uint8Array;

/** The sublevels of the one backend database, each owned by one package. */
export const sublevelNames = ["kv", "lease", "auth", "members", "meta"] as const;
export type SublevelName = (typeof sublevelNames)[number];

// A sublevel with Uint8Array keys and values; classic-level's own type, narrowed to what we use.
type Sublevel = ReturnType<ClassicLevel<Bytes, Bytes>["sublevel"]> & {
  get(key: Bytes): Promise<Bytes | undefined>;
};

const consistentIndexKey = new TextEncoder().encode("consistent_index");
const termKey = new TextEncoder().encode("term");
/** Pairs read from LevelDB per step while dumping (one native call and one promise per batch). */
const dumpBatchPairs = 1000;

/** prefixed is `key` under a sublevel's prefix (a new array). */
function prefixed(prefix: Bytes, key: Bytes): Bytes {
  assert(key instanceof Uint8Array, "backend keys are bytes");
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix, 0);
  out.set(key, prefix.length);
  return out;
}

/**
 * BackendWrite is one atomic write across every sublevel: the server builds one per group of applied raft
 * entries (kv + lease + auth + membership + the consistent index of the last one) and commits it with a
 * single LevelDB batch.
 */
export class BackendWrite {
  /** The queued operations, with keys already under their sublevel's prefix (root-level keys). */
  readonly #ops: Array<{ type: "put"; key: Bytes; value: Bytes } | { type: "del"; key: Bytes }> = [];
  readonly #backend: Backend;
  /** consistent is the raft index and term the write records, written last; it only grows. */
  #consistent: { index: number; term: number } | undefined;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** scoped returns a batch handle that writes into one sublevel (what the packages declare they need). */
  scoped(name: SublevelName): { put(key: Bytes, value: Bytes): void; del(key: Bytes): void } {
    const prefix = this.#backend.prefix(name);
    return {
      put: (key, value) => {
        this.#ops.push({ type: "put", key: prefixed(prefix, key), value });
      },
      del: (key) => {
        this.#ops.push({ type: "del", key: prefixed(prefix, key) });
      },
    };
  }

  /**
   * setConsistentIndex records the raft index (and term) this write applies, in the same batch. A write that
   * covers several entries is told each one in turn; the last (highest) is what is stored.
   */
  setConsistentIndex(index: number, term: number): void {
    assert(Number.isSafeInteger(index) && index >= 0, "consistent index must be a safe integer");
    assert(
      this.#consistent === undefined || index > this.#consistent.index,
      "consistent index must grow within a write",
    );
    this.#consistent = { index, term };
  }

  /** size is the number of operations queued. */
  get size(): number {
    return this.#ops.length + (this.#consistent === undefined ? 0 : 2);
  }

  /** commit writes everything atomically; `sync` fsyncs LevelDB's log. */
  async commit(sync = false): Promise<void> {
    if (this.size === 0) return;
    // One array batch on the root level: abstract-level's chained batch with a sublevel option re-encodes
    // and re-prefixes every key in JavaScript, about twice the CPU per write (the apply path of every put).
    let ops = this.#ops;
    if (this.#consistent !== undefined) {
      const meta = this.#backend.prefix("meta");
      ops = ops.concat([
        { type: "put", key: prefixed(meta, consistentIndexKey), value: encodeU64(this.#consistent.index) },
        { type: "put", key: prefixed(meta, termKey), value: encodeU64(this.#consistent.term) },
      ]);
    }
    await this.#backend.db.batch(ops, { sync });
  }
}

/**
 * Backend is the member's one classic-level (LevelDB) database under member/snap/db, shared by mvcc,
 * lease, auth and membership through sublevels, with the consistent index (last applied raft index) in
 * the `meta` sublevel.
 */
export class Backend {
  readonly db: ClassicLevel<Bytes, Bytes>;
  readonly #sublevels = new Map<SublevelName, Sublevel>();
  /** Each sublevel's key prefix on the root level (abstract-level's `!name!`), as bytes. */
  readonly #prefixes = new Map<SublevelName, Bytes>();

  readonly #path: string;

  constructor(dbPath: string) {
    this.#path = dbPath;
    this.db = new ClassicLevel<Bytes, Bytes>(dbPath, { keyEncoding: "view", valueEncoding: "view" });
    for (const name of sublevelNames) {
      this.#sublevels.set(
        name,
        this.db.sublevel<Bytes, Bytes>(name, { keyEncoding: "view", valueEncoding: "view" }) as Sublevel,
      );
      this.#prefixes.set(name, new TextEncoder().encode(this.sublevel(name).prefix));
    }
  }

  async open(): Promise<void> {
    await this.db.open();
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** sublevel returns the named sublevel. */
  sublevel(name: SublevelName): Sublevel {
    const sublevel = this.#sublevels.get(name);
    assert(sublevel !== undefined, `unknown sublevel ${name}`);
    return sublevel;
  }

  /** prefix is the root-level key prefix of a sublevel's keys. */
  prefix(name: SublevelName): Bytes {
    const prefix = this.#prefixes.get(name);
    assert(prefix !== undefined, `unknown sublevel ${name}`);
    return prefix;
  }

  /** write starts an atomic write across the sublevels. */
  write(): BackendWrite {
    return new BackendWrite(this);
  }

  /** consistentIndex reads the last applied raft index and its term (0, 0 for a new backend). */
  async consistentIndex(): Promise<{ index: number; term: number }> {
    const meta = this.sublevel("meta");
    const index = (await meta.get(consistentIndexKey)) as Bytes | undefined;
    const term = (await meta.get(termKey)) as Bytes | undefined;
    return {
      index: index === undefined ? 0 : decodeU64(index),
      term: term === undefined ? 0 : decodeU64(term),
    };
  }

  /** sizeBytes is the size of the database's files on disk. */
  async sizeBytes(): Promise<number> {
    let total = 0;
    for (const name of await fs.promises.readdir(this.#path)) {
      try {
        total += (await fs.promises.stat(path.join(this.#path, name))).size;
      } catch {
        // a file LevelDB removed meanwhile
      }
    }
    return total;
  }

  /**
   * readConsistent runs `fn` with a reader of whole sublevels that all see the database at one moment
   * (one LevelDB snapshot), for building a snapshot file.
   */
  async readConsistent<T>(
    fn: (read: (name: SublevelName) => Promise<Array<[Bytes, Bytes]>>) => Promise<T>,
  ): Promise<T> {
    const snapshot = this.db.snapshot();
    try {
      return await fn(async (name) => {
        const it = this.sublevel(name).iterator({ snapshot });
        try {
          return (await it.all()) as Array<[Bytes, Bytes]>;
        } finally {
          await it.close();
        }
      });
    } finally {
      await snapshot.close();
    }
  }

  /**
   * dump streams every key and value of the database at one moment (one LevelDB snapshot), raw (with the
   * sublevel prefixes), as frames `[u32 key length][key][u32 value length][value]` packed into chunks of at
   * most `chunkBytes` (a pair larger than that gets a chunk of its own). A leader sends it to a member that
   * must catch up from a snapshot, so its speed is part of a new member's recovery: pairs are read in
   * batches (`nextv`) and copied straight into the chunk, with no per-pair promise or allocation.
   */
  async *dump(chunkBytes = 1024 * 1024): AsyncGenerator<Uint8Array> {
    assert(Number.isSafeInteger(chunkBytes) && chunkBytes > 0, "chunkBytes must be a positive integer");
    const snapshot = this.db.snapshot();
    const it = this.db.iterator({ snapshot, keyEncoding: "buffer", valueEncoding: "buffer" });
    try {
      let chunk = Buffer.allocUnsafe(chunkBytes);
      let used = 0;
      for (;;) {
        const pairs = (await it.nextv(dumpBatchPairs)) as Array<[Bytes, Bytes]>;
        if (pairs.length === 0) break;
        for (const [key, value] of pairs) {
          const frameBytes = 8 + key.length + value.length;
          if (used + frameBytes > chunk.length) {
            // The consumer keeps what it is given: a fresh buffer after every yield.
            if (used > 0) yield chunk.subarray(0, used);
            chunk = Buffer.allocUnsafe(Math.max(chunkBytes, frameBytes));
            used = 0;
          }
          chunk.writeUInt32BE(key.length, used);
          chunk.set(key, used + 4);
          used += 4 + key.length;
          chunk.writeUInt32BE(value.length, used);
          chunk.set(value, used + 4);
          used += 4 + value.length;
        }
      }
      if (used > 0) yield chunk.subarray(0, used);
    } finally {
      await it.close();
      await snapshot.close();
    }
  }

  /**
   * restoreFrom replaces the whole database with a dump file (see `dump`). Crash-safe by ordering: the
   * database is cleared (which drops the consistent index to 0), the pairs are written, and the consistent
   * index and term come last, in the final synced batch. A crash in between leaves a consistent index below
   * the snapshot's, and the member restores again on restart.
   */
  async restoreFrom(file: string): Promise<void> {
    const bytes = await fs.promises.readFile(file);
    const ciRaw = rawKey("meta", consistentIndexKey);
    const termRaw = rawKey("meta", termKey);
    const last: Array<[Bytes, Bytes]> = [];
    await this.db.clear();
    let batch = this.db.batch();
    let batchBytes = 0;
    let offset = 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    while (offset < bytes.length) {
      assert(offset + 4 <= bytes.length, "snapshot dump: truncated key length");
      const keyLength = view.getUint32(offset, false);
      const key = bytes.subarray(offset + 4, offset + 4 + keyLength);
      offset += 4 + keyLength;
      assert(offset + 4 <= bytes.length, "snapshot dump: truncated value length");
      const valueLength = view.getUint32(offset, false);
      const value = bytes.subarray(offset + 4, offset + 4 + valueLength);
      offset += 4 + valueLength;
      assert(offset <= bytes.length, "snapshot dump: truncated value");
      if (sameBytes(key, ciRaw) || sameBytes(key, termRaw)) {
        last.push([key, value]);
        continue;
      }
      batch.put(key, value);
      batchBytes += key.length + value.length;
      if (batchBytes >= 4 * 1024 * 1024) {
        await batch.write();
        batch = this.db.batch();
        batchBytes = 0;
      }
    }
    for (const [key, value] of last) batch.put(key, value);
    await batch.write({ sync: true });
  }

  /** compactRange asks LevelDB to compact all of the database (defragment). */
  async defragment(): Promise<void> {
    await this.db.compactRange(new Uint8Array([0]), new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  }
}

/** rawKey is a sublevel key as the root database stores it (abstract-level's `!name!` prefix). */
function rawKey(name: SublevelName, key: Bytes): Bytes {
  const prefix = new TextEncoder().encode(`!${name}!`);
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix, 0);
  out.set(key, prefix.length);
  return out;
}

function sameBytes(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function encodeU64(value: number): Bytes {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

function decodeU64(bytes: Bytes): number {
  assert(bytes.length === 8, "a stored u64 is 8 bytes");
  const value = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, false);
  assert(value <= BigInt(Number.MAX_SAFE_INTEGER), "stored index exceeds 2^53");
  return Number(value);
}
