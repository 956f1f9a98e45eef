/**
 * BackendBatch is the part of one atomic write that belongs to the mvcc store: the caller (the server) hands it
 * in, scoped to the store's sublevel, and writes the whole batch (kv + lease + auth + consistent index) itself.
 */
export interface BackendBatch {
  put(key: Uint8Array, value: Uint8Array): void;
  del(key: Uint8Array): void;
}

/** BackendEntry is one stored key and its value. */
export type BackendEntry = readonly [key: Uint8Array, value: Uint8Array];

/**
 * BackendSnapshot is a consistent read view of the store's sublevel, taken synchronously when created: writes
 * after that moment (new revisions, compaction deletes) are not visible through it.
 */
export interface BackendSnapshot {
  /** get reads one value, undefined when missing. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** getMany reads several values in one call, undefined where missing. */
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /** scan reads at most `limit` entries with `from <= key < to`, in key order. */
  scan(from: Uint8Array, to: Uint8Array, limit: number): Promise<BackendEntry[]>;
  /** close releases the snapshot. */
  close(): Promise<void>;
}

/**
 * Backend is what the store needs from storage: snapshots for reads, and its own small batches for work that is
 * not part of applying a raft entry (physical compaction in the background).
 */
export interface Backend {
  snapshot(): BackendSnapshot;
  /**
   * getManyNow reads several values from an implicit snapshot taken synchronously when it is called (what
   * classic-level guarantees for getMany), so a read issued in the same tick as an index lookup is consistent
   * with it without the cost of an explicit snapshot.
   */
  getManyNow(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  write(fill: (batch: BackendBatch) => void): Promise<void>;
}

/** LevelSnapshotLike is the structural shape of a classic-level snapshot. */
export interface LevelSnapshotLike {
  close(): Promise<void>;
}

/** LevelIteratorLike is the structural shape of a classic-level iterator over Uint8Array keys and values. */
export interface LevelIteratorLike {
  nextv(size: number): Promise<[Uint8Array, Uint8Array][]>;
  close(): Promise<void>;
}

/** LevelChainedBatchLike is the structural shape of a classic-level chained batch. */
export interface LevelChainedBatchLike {
  put(key: Uint8Array, value: Uint8Array): unknown;
  del(key: Uint8Array): unknown;
  write(): Promise<void>;
}

/**
 * LevelSublevelLike is the part of a classic-level sublevel opened with
 * `{ keyEncoding: "view", valueEncoding: "view" }` that levelBackend uses.
 */
export interface LevelSublevelLike {
  get(key: Uint8Array, options: { snapshot: LevelSnapshotLike }): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[], options?: { snapshot: LevelSnapshotLike }): Promise<(Uint8Array | undefined)[]>;
  iterator(options: {
    gte: Uint8Array;
    lt: Uint8Array;
    limit: number;
    snapshot: LevelSnapshotLike;
    highWaterMarkBytes: number;
  }): LevelIteratorLike;
  snapshot(): LevelSnapshotLike;
  batch(): LevelChainedBatchLike;
}

const SCAN_CHUNK = 1000;
/** SCAN_HIGH_WATER_BYTES lets one native read return a whole chunk of typical entries. */
const SCAN_HIGH_WATER_BYTES = 1024 * 1024;

/** levelBackend adapts a classic-level sublevel (view key and value encodings) to the store's Backend. */
export function levelBackend(sublevel: LevelSublevelLike): Backend {
  return {
    getManyNow: (keys) => sublevel.getMany([...keys]),
    snapshot(): BackendSnapshot {
      const snapshot = sublevel.snapshot();
      return {
        get: (key) => sublevel.get(key, { snapshot }),
        getMany: (keys) => sublevel.getMany([...keys], { snapshot }),
        async scan(from, to, limit) {
          const iterator = sublevel.iterator({
            gte: from,
            lt: to,
            limit,
            snapshot,
            highWaterMarkBytes: SCAN_HIGH_WATER_BYTES,
          });
          try {
            const out: BackendEntry[] = [];
            while (out.length < limit) {
              const chunk = await iterator.nextv(Math.min(SCAN_CHUNK, limit - out.length));
              if (chunk.length === 0) break;
              for (const entry of chunk) out.push(entry);
            }
            return out;
          } finally {
            await iterator.close();
          }
        },
        close: () => snapshot.close(),
      };
    },
    async write(fill) {
      const batch = sublevel.batch();
      fill({
        put: (key, value) => {
          batch.put(key, value);
        },
        del: (key) => {
          batch.del(key);
        },
      });
      await batch.write();
    },
  };
}

/** LevelRootBatchLike is the structural shape of a chained batch of the root database. */
export interface LevelRootBatchLike {
  put(key: Uint8Array, value: Uint8Array, options: { sublevel: unknown }): unknown;
  del(key: Uint8Array, options: { sublevel: unknown }): unknown;
}

/**
 * sublevelBatch scopes a chained batch of the root database to one sublevel, so that the server can hand the
 * store its part of the one atomic batch of an applied raft entry.
 */
export function sublevelBatch(batch: LevelRootBatchLike, sublevel: unknown): BackendBatch {
  return {
    put: (key, value) => {
      batch.put(key, value, { sublevel });
    },
    del: (key) => {
      batch.del(key, { sublevel });
    },
  };
}
