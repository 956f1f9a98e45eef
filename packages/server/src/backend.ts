import { createHash } from "node:crypto";
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

/** snapshotMagic starts every etcd-ts backend snapshot stream. */
export const snapshotMagic = new TextEncoder().encode("etcd-ts snapshot v1\n");

/** snapshotEndMarker is where a key length would be: no more entries. */
export const snapshotEndMarker = 0xffff_ffff;

const consistentIndexKey = new TextEncoder().encode("consistent_index");
const termKey = new TextEncoder().encode("term");

/**
 * BackendWrite is one atomic write across every sublevel: the applier builds one per applied raft entry
 * (kv + lease + auth + membership + the consistent index) and commits it with a single LevelDB batch.
 */
export class BackendWrite {
  readonly #ops: Array<{ type: "put" | "del"; sublevel: Sublevel; key: Bytes; value?: Bytes }> = [];
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** scoped returns a batch handle that writes into one sublevel (what the packages declare they need). */
  scoped(name: SublevelName): { put(key: Bytes, value: Bytes): void; del(key: Bytes): void } {
    const sublevel = this.#backend.sublevel(name);
    return {
      put: (key, value) => {
        this.#ops.push({ type: "put", sublevel, key, value });
      },
      del: (key) => {
        this.#ops.push({ type: "del", sublevel, key });
      },
    };
  }

  /** setConsistentIndex records the raft index (and term) this write applies, in the same batch. */
  setConsistentIndex(index: number, term: number): void {
    assert(Number.isSafeInteger(index) && index >= 0, "consistent index must be a safe integer");
    const meta = this.#backend.sublevel("meta");
    this.#ops.push({ type: "put", sublevel: meta, key: consistentIndexKey, value: encodeU64(index) });
    this.#ops.push({ type: "put", sublevel: meta, key: termKey, value: encodeU64(term) });
  }

  /** size is the number of operations queued. */
  get size(): number {
    return this.#ops.length;
  }

  /** commit writes everything atomically; `sync` fsyncs LevelDB's log. */
  async commit(sync = false): Promise<void> {
    if (this.#ops.length === 0) return;
    const batch = this.#backend.db.batch();
    for (const op of this.#ops) {
      if (op.type === "put") batch.put(op.key, op.value as Bytes, { sublevel: op.sublevel });
      else batch.del(op.key, { sublevel: op.sublevel });
    }
    await batch.write({ sync });
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

  readonly #path: string;

  constructor(dbPath: string) {
    this.#path = dbPath;
    this.db = new ClassicLevel<Bytes, Bytes>(dbPath, { keyEncoding: "view", valueEncoding: "view" });
    for (const name of sublevelNames) {
      this.#sublevels.set(
        name,
        this.db.sublevel<Bytes, Bytes>(name, { keyEncoding: "view", valueEncoding: "view" }) as Sublevel,
      );
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
   * snapshotChunks streams a consistent copy of the whole database (every sublevel) as one byte stream:
   * a magic line, then `u32 keyLength, key, u32 valueLength, value` per entry in key order, an end marker
   * (u32 0xffffffff) and zero padding to a multiple of 512 bytes, then the SHA-256 of all the bytes before it (as etcd ends its snapshot stream with a sha256). It reads the
   * database twice through one LevelDB snapshot: once to know the size (for remaining_bytes), once to send.
   */
  async *snapshotChunks(chunkBytes: number): AsyncIterable<{ blob: Uint8Array; remainingBytes: number }> {
    assert(chunkBytes >= 64, "snapshot chunks must be at least 64 bytes");
    const snapshot = this.db.snapshot();
    try {
      const entries = async function* (db: ClassicLevel<Bytes, Bytes>) {
        const it = db.iterator({ snapshot });
        try {
          for (;;) {
            const batch = await it.nextv(1000);
            if (batch.length === 0) return;
            for (const entry of batch) yield entry as [Bytes, Bytes];
          }
        } finally {
          await it.close();
        }
      };
      let body = snapshotMagic.length + 4; // magic, entries, end marker
      for await (const [key, value] of entries(this.db)) body += 8 + key.length + value.length;
      // etcdctl checks that the bytes before the sha256 fill whole 512-byte pages (as a bolt file does).
      const padding = (512 - (body % 512)) % 512;
      const total = body + padding + 32;
      const hash = createHash("sha256");
      let remaining = total;
      let pending: Buffer[] = [Buffer.from(snapshotMagic)];
      let pendingBytes = snapshotMagic.length;
      const flush = function* (all: boolean) {
        while (pendingBytes >= chunkBytes || (all && pendingBytes > 0)) {
          const joined = Buffer.concat(pending);
          const blob = joined.subarray(0, Math.min(chunkBytes, joined.length));
          const rest = joined.subarray(blob.length);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
          hash.update(blob);
          remaining -= blob.length;
          yield { blob: new Uint8Array(blob), remainingBytes: remaining };
        }
      };
      for await (const [key, value] of entries(this.db)) {
        const head = Buffer.alloc(4);
        head.writeUInt32BE(key.length);
        const mid = Buffer.alloc(4);
        mid.writeUInt32BE(value.length);
        pending.push(head, Buffer.from(key), mid, Buffer.from(value));
        pendingBytes += 8 + key.length + value.length;
        yield* flush(false);
      }
      const end = Buffer.alloc(4 + padding);
      end.writeUInt32BE(snapshotEndMarker);
      pending.push(end);
      pendingBytes += end.length;
      yield* flush(true);
      const digest = hash.digest();
      remaining -= digest.length;
      assert(remaining === 0, `snapshot size changed while streaming (${remaining} bytes off)`);
      yield { blob: new Uint8Array(digest), remainingBytes: 0 };
    } finally {
      await snapshot.close();
    }
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

  /** compactRange asks LevelDB to compact all of the database (defragment). */
  async defragment(): Promise<void> {
    await this.db.compactRange(new Uint8Array([0]), new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  }
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
