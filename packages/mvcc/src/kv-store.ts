import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from "@etcd-ts/proto/etcdserverpb";
import type { KeyValue } from "@etcd-ts/proto/mvccpb";
import { assert } from "./assert.js";
import type { Backend, BackendBatch, BackendEntry, BackendSnapshot } from "./backend.js";
import { crc32cUpdate } from "./crc32c.js";
import { ErrCompacted, ErrEmptyKey, ErrFutureRevision } from "./errors.js";
import { keyFromString, keyToString, toKeyRange } from "./key-range.js";
import { decodeKeyValue, decodeKeyValueMeta } from "./key-value-codec.js";
import { checkRangeSort, executeRange } from "./range-request.js";
import { RecentValues } from "./recent-values.js";
import {
  decodeRevisionKey,
  encodeRevisionKey,
  isRevisionKey,
  type Revision,
  revisionLowerBound,
} from "./revision.js";
import { type IndexedKey, TreeIndex } from "./tree-index.js";
import { checkPutRequest, checkTxnRequest, DEFAULT_MAX_TXN_OPS } from "./txn-check.js";
import { type Change, readKeyValues, WriteTxn } from "./write-txn.js";

/** DEFAULT_COMPACTION_BATCH_LIMIT is etcd's --compaction-batch-limit: revisions deleted per backend batch. */
export const DEFAULT_COMPACTION_BATCH_LIMIT = 1000;
/** DEFAULT_COMPACTION_INDEX_CHUNK is how many keys of the in-memory index are compacted between yields. */
export const DEFAULT_COMPACTION_INDEX_CHUNK = 2_000;
/**
 * MAX_PENDING_WRITES bounds the writes executed into one caller batch before it is written and they are
 * committed (the server groups the kv writes of several raft entries into one backend batch).
 */
export const MAX_PENDING_WRITES = 4_096;
/** REBUILD_SCAN_CHUNK bounds how many stored revisions are read at once when rebuilding the index. */
const REBUILD_SCAN_CHUNK = 10_000;

/** META_SCHEDULED_COMPACT is the storage key of the compaction revision decided by an applied Compact. */
export const META_SCHEDULED_COMPACT = Uint8Array.from(Buffer.from("\xffscheduledCompactRev", "latin1"));
/** META_FINISHED_COMPACT is the storage key of the last compaction whose physical deletion completed. */
export const META_FINISHED_COMPACT = Uint8Array.from(Buffer.from("\xfffinishedCompactRev", "latin1"));
/** REVISION_KEYS_END is above every revision key and below the meta keys (which start with 0xff). */
const REVISION_KEYS_END = new Uint8Array([0xff]);

/** LeaseChange reports that a write moved a key from one lease to another (0n = none), for the lessor. */
export interface LeaseChange {
  readonly key: Uint8Array;
  readonly previousLease: bigint;
  readonly lease: bigint;
}

/**
 * PendingWrite is the result of a write request that has been executed into the caller's batch but is not yet
 * visible: after writing the batch, the caller must call `commit` (or `abort` if the batch was not written).
 */
export interface PendingWrite<R> {
  readonly response: R;
  /** revision is the store revision after the write (unchanged for read-only and no-op writes). */
  readonly revision: bigint;
  readonly changes: readonly Change[];
  readonly leaseChanges: readonly LeaseChange[];
}

/** PendingCompaction is a validated Compact whose scheduled revision is in the caller's batch. */
export interface PendingCompaction {
  readonly revision: bigint;
}

/** HashKVResult is the answer to HashKV: a CRC-32C over the kept history up to hashRevision. */
export interface HashKVResult {
  readonly hash: number;
  readonly compactRevision: bigint;
  readonly hashRevision: bigint;
}

/** CompactionStats describes the last finished compaction. */
export interface CompactionStats {
  readonly revision: number;
  readonly deletedRevisions: number;
  /** longestPauseMs is the longest stretch the compaction held the event loop (blocking writers). */
  readonly longestPauseMs: number;
}

/** StoreHooks lets the watchable store observe commits; not part of the public API. */
export interface StoreHooks {
  /** onCommit is called synchronously after a write became visible. */
  onCommit(changes: readonly Change[], main: number): void;
  /** wantPrevKv tells whether a change of `key` needs its previous value read for some watcher. */
  wantPrevKv(key: string): boolean;
}

/** KvStoreOptions configures a store. */
export interface KvStoreOptions {
  backend: Backend;
  /** maxTxnOps is etcd's --max-txn-ops (default 128). */
  maxTxnOps?: number;
  /** compactionBatchLimit is how many revisions one compaction batch deletes (default 1000). */
  compactionBatchLimit?: number;
  /** compactionIndexChunk is how many keys of the index are compacted between yields (default 2000). */
  compactionIndexChunk?: number;
  /** leaseExists, when given, makes a put with an unknown lease fail with ErrLeaseNotFound. */
  leaseExists?: (lease: bigint) => boolean;
}

/** StoredEvent is a change read back from the backend for watch catch-up. */
export interface StoredEvent {
  readonly key: string;
  readonly revision: Revision;
  readonly deleted: boolean;
  readonly kv: KeyValue;
}

function encodeMetaRevision(main: number): Uint8Array {
  return Uint8Array.from(Buffer.from(String(main), "latin1"));
}

function decodeMetaRevision(bytes: Uint8Array | undefined): number {
  if (bytes === undefined) return 0;
  const main = Number(Buffer.from(bytes).toString("latin1"));
  assert(Number.isSafeInteger(main) && main >= 0, "malformed compaction revision in backend");
  return main;
}

function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function toMain(revision: bigint): number {
  assert(revision <= BigInt(Number.MAX_SAFE_INTEGER), "revision beyond the safe integer range");
  return Number(revision);
}

function leaseChangesOf(changes: readonly Change[]): LeaseChange[] {
  const before = new Map<string, bigint>();
  const after = new Map<string, bigint>();
  for (const change of changes) {
    if (!before.has(change.key)) before.set(change.key, change.prevLease);
    after.set(change.key, change.deleted ? 0n : change.kv.lease);
  }
  const out: LeaseChange[] = [];
  for (const [key, previousLease] of before) {
    const lease = after.get(key) ?? 0n;
    if (lease !== previousLease) out.push({ key: keyFromString(key), previousLease, lease });
  }
  return out;
}

/** NO_WRITES is the batch of a read-only txn: writing to it is a bug. */
const NO_WRITES: BackendBatch = {
  put: () => assert(false, "write in a read-only txn"),
  del: () => assert(false, "write in a read-only txn"),
};

/** isReadOnlyTxn tells whether no branch of a txn (nested ones included) puts or deletes. */
export function isReadOnlyTxn(request: TxnRequest): boolean {
  return [...request.success, ...request.failure].every((op) => {
    switch (op.request.case) {
      case "requestPut":
      case "requestDeleteRange":
        return false;
      case "requestTxn":
        return isReadOnlyTxn(op.request.value);
      default:
        return true;
    }
  });
}

const NO_HOOKS: StoreHooks = { onCommit: () => {}, wantPrevKv: () => false };

/**
 * KvStore is etcd's revisioned key-value store: each write txn makes one new revision, history stays
 * readable until compacted, and an in-memory index (rebuilt from the backend on open) maps keys to revisions.
 *
 * Writes run in two steps: `put`/`deleteRange`/`txn`/`deleteKeys` execute into the caller's batch and return
 * a PendingWrite; once the caller has written the batch, `commit` makes the write visible to readers and
 * watchers. Several writes may be pending at once (the server puts the kv writes of several raft entries into
 * one batch): each executes on top of the ones before it, and they are committed in the order they executed.
 * A pending write's changes are in the index already, at revisions above `currentRevision`, which every read
 * is bounded by; its values are kept in memory until commit, since the backend has not got them yet.
 */
export class KvStore {
  /** index is replaced as a whole by `restore`, never half-built. */
  private index = new TreeIndex();
  private backend: Backend;
  private readonly maxTxnOps: number;
  private readonly compactionBatchLimit: number;
  private readonly compactionIndexChunk: number;
  private readonly leaseExists: ((lease: bigint) => boolean) | undefined;
  private hooks: StoreHooks = NO_HOOKS;
  /** currentMain is the latest committed revision; it only grows. */
  private currentMain = 1;
  /** compactMain is the latest scheduled compaction revision; reads below it fail. */
  private compactMain = 0;
  /** executing is set while a write runs (writes execute one at a time, in order). */
  private executing = false;
  /** pending lists the change lists of executed, uncommitted writes, oldest first (at most MAX_PENDING_WRITES). */
  private readonly pending: Array<readonly Change[]> = [];
  /** pendingMain is the revision of the newest pending write (currentMain when none is pending). */
  private pendingMain = 1;
  /** recent holds the decoded values of the newest committed revisions (reads of hot keys skip the backend). */
  private readonly recent = new RecentValues();
  /** pendingValues holds the stored form of pending changes by revision key (latin1), until they commit. */
  private readonly pendingValues = new Map<string, Uint8Array>();
  /** serial orders compactions and hashes, which must see a fully compacted index. */
  private serial: Promise<void> = Promise.resolve();
  private stats: CompactionStats | undefined;
  private closed = false;

  private constructor(options: KvStoreOptions) {
    this.backend = options.backend;
    this.maxTxnOps = options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.compactionBatchLimit = options.compactionBatchLimit ?? DEFAULT_COMPACTION_BATCH_LIMIT;
    this.compactionIndexChunk = options.compactionIndexChunk ?? DEFAULT_COMPACTION_INDEX_CHUNK;
    this.leaseExists = options.leaseExists;
  }

  /**
   * open builds a store over a backend: it rebuilds the index from every stored revision, applies the
   * scheduled compaction to it, and resumes a physical compaction that a crash interrupted.
   */
  static async open(options: KvStoreOptions): Promise<KvStore> {
    const store = new KvStore(options);
    await store.rebuild();
    return store;
  }

  /** setHooks connects the watch hub; used by WatchableStore. */
  setHooks(hooks: StoreHooks): void {
    this.hooks = hooks;
  }

  /** currentRevision is the latest committed store revision (1 for an empty store). */
  get currentRevision(): bigint {
    return BigInt(this.currentMain);
  }

  /**
   * latestRevision is the revision of the newest executed write, committed or still pending: what a
   * response to a request applied now must report (pending writes of earlier entries in the same batch
   * come before it).
   */
  get latestRevision(): bigint {
    return BigInt(this.pendingMain);
  }

  /** compactRevision is the latest compaction revision (0 when never compacted). */
  get compactRevision(): bigint {
    return BigInt(this.compactMain);
  }

  /** lastCompaction describes the last finished compaction, if any. */
  get lastCompaction(): CompactionStats | undefined {
    return this.stats;
  }

  /** keyCount is the number of keys with history in the index. */
  get keyCount(): number {
    return this.index.size;
  }

  /**
   * restore replaces the store's state with what `backend` holds, for the server installing a raft snapshot
   * into the member's database: background compaction is awaited, the index is rebuilt aside and swapped in
   * whole, so concurrent readers see the old state or the new one.
   */
  async restore(backend: Backend): Promise<void> {
    assert(!this.executing && this.pending.length === 0, "restore while a write is pending");
    await this.serial.catch(() => {});
    await this.rebuild(backend);
  }

  private async rebuild(backend: Backend = this.backend): Promise<void> {
    const fresh = new TreeIndex();
    const snapshot = backend.snapshot();
    let scheduled: number;
    let finished: number;
    let maxMain = 1;
    try {
      scheduled = decodeMetaRevision(await snapshot.get(META_SCHEDULED_COMPACT));
      finished = decodeMetaRevision(await snapshot.get(META_FINISHED_COMPACT));
      let next: Promise<BackendEntry[]> | undefined = snapshot.scan(
        revisionLowerBound(0),
        REVISION_KEYS_END,
        REBUILD_SCAN_CHUNK,
      );
      while (next !== undefined) {
        const entries: BackendEntry[] = await next;
        const last = entries[entries.length - 1];
        // Read the next chunk (in LevelDB's thread) while this one is decoded here.
        next =
          entries.length < REBUILD_SCAN_CHUNK || last === undefined
            ? undefined
            : snapshot.scan(successor(last[0]), REVISION_KEYS_END, REBUILD_SCAN_CHUNK);
        for (const [rawKey, value] of entries) {
          assert(isRevisionKey(rawKey), "unexpected key in the mvcc keyspace");
          const { revision, tombstone } = decodeRevisionKey(rawKey);
          const meta = decodeKeyValueMeta(value);
          const index = fresh.getOrCreate(meta.key);
          if (tombstone) index.restoreTombstone(revision);
          else index.restore(revision, meta.createRevision, meta.version, meta.lease);
          if (revision.main > maxMain) maxMain = revision.main;
        }
      }
    } finally {
      await snapshot.close();
    }
    if (scheduled > 0) fresh.compactFrom("", scheduled, Number.MAX_SAFE_INTEGER);
    this.recent.clear();
    this.index = fresh;
    this.backend = backend;
    this.currentMain = Math.max(maxMain, scheduled);
    this.pendingMain = this.currentMain;
    this.compactMain = scheduled;
    if (finished < scheduled) {
      const job = this.serial.then(() => this.deleteCompacted(scheduled, 0));
      this.serial = job.catch(() => {});
    }
  }

  // ---- reads ----

  private resolveReadRevision(revision: bigint): number {
    if (revision > BigInt(this.currentMain)) throw new ErrFutureRevision();
    const atMain = revision > 0n ? toMain(revision) : this.currentMain;
    if (atMain < this.compactMain) throw new ErrCompacted();
    return atMain;
  }

  /** range answers a RangeRequest (every option) from committed state; header.revision is the current one. */
  async range(request: RangeRequest): Promise<RangeResponse> {
    if (request.key.length === 0) throw new ErrEmptyKey();
    checkRangeSort(request);
    const atMain = this.resolveReadRevision(request.revision);
    const current = BigInt(this.currentMain);
    const keys = this.index.range(toKeyRange(request.key, request.rangeEnd), atMain);
    if (request.countOnly) return executeRange(request, keys, async () => [], current);
    // executeRange calls the fetcher once, synchronously: the read's implicit snapshot is taken in this tick,
    // so it matches the index lookup just made, whatever commits or compactions follow.
    return executeRange(request, keys, (k) => this.readNow(k), current);
  }

  private async readNow(keys: readonly IndexedKey[]): Promise<KeyValue[]> {
    return readKeyValues({ getMany: (k) => this.backend.getManyNow(k) }, keys, this.recent);
  }

  // ---- writes ----

  private async execute<R>(
    batch: BackendBatch,
    run: (txn: WriteTxn) => Promise<R>,
  ): Promise<PendingWrite<R>> {
    assert(!this.closed, "store is closed");
    assert(!this.executing, "a write is already executing; writes must be applied one at a time");
    assert(this.pending.length < MAX_PENDING_WRITES, "too many pending writes; write the batch first");
    this.executing = true;
    let snapshot: BackendSnapshot | undefined;
    // Values are kept aside until the write succeeds: a failed write leaves no trace in pendingValues.
    const values: Array<[string, Uint8Array]> = [];
    const txn = new WriteTxn({
      index: this.index,
      snapshot: () => {
        snapshot ??= this.backend.snapshot();
        return this.pending.length === 0 ? snapshot : withPendingValues(snapshot, this.pendingValues);
      },
      batch: {
        put: (key, value) => {
          batch.put(key, value);
          values.push([Buffer.from(key).toString("latin1"), value]);
        },
        del: (key) => batch.del(key),
      },
      cached: this.recent,
      beginMain: this.pendingMain,
      compactMain: this.compactMain,
      leaseExists: this.leaseExists,
      wantPrevKv: (key) => this.hooks.wantPrevKv(key),
    });
    try {
      const response = await run(txn);
      txn.finish();
      const write: PendingWrite<R> = {
        response,
        revision: BigInt(txn.revision),
        changes: txn.changes,
        leaseChanges: leaseChangesOf(txn.changes),
      };
      if (txn.changes.length > 0) {
        // The index takes the changes now, above every revision a read is bounded by (currentMain), so
        // the next pending write sees them while readers and watchers do not until `commit`.
        for (const change of txn.changes) {
          if (change.deleted) this.index.tombstone(change.key, change.revision);
          else this.index.put(change.key, change.revision, change.kv.lease);
        }
        for (const [key, value] of values) this.pendingValues.set(key, value);
        this.pending.push(txn.changes);
        this.pendingMain = txn.main;
      }
      return write;
    } finally {
      this.executing = false;
      if (snapshot !== undefined) await snapshot.close();
    }
  }

  private async executeTxn(request: TxnRequest, batch: BackendBatch): Promise<PendingWrite<TxnResponse>> {
    return this.execute(batch, async (txn) => {
      const path = await txn.decide(request);
      txn.check(request, path);
      return txn.runTxn(request, path);
    });
  }

  /**
   * txn runs a TxnRequest: compares (also of nested txns on the chosen branch) are evaluated first against the
   * state before the txn; then the branch's ops run in order at one new revision with increasing sub
   * revisions, each seeing the earlier ones. A txn without changes keeps the revision.
   */
  async txn(request: TxnRequest, batch: BackendBatch): Promise<PendingWrite<TxnResponse>> {
    checkTxnRequest(request, this.maxTxnOps);
    return this.executeTxn(request, batch);
  }

  /**
   * readTxn runs a txn without puts or deletes (a serializable read-only Txn) against committed state, beside
   * the apply loop and without its batch: it reads at the revision current when it starts, from a snapshot
   * taken then, and fails with ErrCompacted if a compaction passes that revision meanwhile.
   */
  async readTxn(request: TxnRequest): Promise<TxnResponse> {
    checkTxnRequest(request, this.maxTxnOps);
    assert(isReadOnlyTxn(request), "readTxn of a txn that writes");
    const beginMain = this.currentMain;
    const snapshot = this.backend.snapshot();
    const txn = new WriteTxn({
      index: this.index,
      snapshot: () => snapshot,
      cached: this.recent,
      batch: NO_WRITES,
      beginMain,
      compactMain: this.compactMain,
      leaseExists: undefined,
      wantPrevKv: () => false,
      beforeRead: (atMain) => {
        if (atMain < this.compactMain) throw new ErrCompacted();
      },
    });
    try {
      const path = await txn.decide(request);
      txn.check(request, path);
      const response = await txn.runTxn(request, path);
      txn.finish();
      return response;
    } finally {
      await snapshot.close();
    }
  }

  /** put writes one key (prev_kv, ignore_value, ignore_lease as in etcd). */
  async put(request: PutRequest, batch: BackendBatch): Promise<PendingWrite<PutResponse>> {
    checkPutRequest(request);
    return this.execute(batch, async (txn) => {
      txn.checkPut(request);
      return txn.put(request);
    });
  }

  /** deleteRange deletes the live keys of a range; deleting nothing keeps the revision. */
  async deleteRange(
    request: DeleteRangeRequest,
    batch: BackendBatch,
  ): Promise<PendingWrite<DeleteRangeResponse>> {
    if (request.key.length === 0) throw new ErrEmptyKey();
    return this.execute(batch, (txn) => txn.deleteRange(request));
  }

  /**
   * deleteKeys deletes the listed keys (those that exist) at one revision, without the txn op limit: this is
   * what the lessor uses to revoke a lease.
   */
  async deleteKeys(
    keys: readonly Uint8Array[],
    batch: BackendBatch,
  ): Promise<PendingWrite<DeleteRangeResponse>> {
    return this.execute(batch, (txn) => txn.deleteKeys(txn.resolveKeys(keys), false));
  }

  /**
   * commit makes the oldest pending write visible (current revision, watchers) after its batch is durable;
   * pending writes are committed in the order they executed.
   */
  commit(write: PendingWrite<unknown>): void {
    if (write.changes.length === 0) return;
    assert(this.pending[0] === write.changes, "commit of a write that is not the oldest pending one");
    this.pending.shift();
    const main = toMain(write.revision);
    assert(main === this.currentMain + 1, "revisions must grow by one per write");
    this.currentMain = main;
    if (this.pending.length === 0) this.pendingValues.clear();
    else for (const change of write.changes) this.pendingValues.delete(revisionKeyString(change.revision));
    for (const change of write.changes) if (!change.deleted) this.recent.add(change.revision, change.kv);
    this.hooks.onCommit(write.changes, main);
  }

  /** abort drops the newest pending write (its batch was not written), taking its changes out of the index. */
  abort(write: PendingWrite<unknown>): void {
    if (write.changes.length === 0) return;
    assert(this.pending.at(-1) === write.changes, "abort of a write that is not the newest pending one");
    this.pending.pop();
    for (let i = write.changes.length - 1; i >= 0; i--) {
      const change = write.changes[i] as Change;
      this.index.undo(change.key, change.revision, change.prevLease);
      this.pendingValues.delete(revisionKeyString(change.revision));
    }
    this.pendingMain = this.currentMain + this.pending.length;
  }

  // ---- compaction ----

  /**
   * compact validates a Compact at `revision` and records the scheduled compaction in the caller's batch.
   * After writing the batch the caller calls `commitCompaction`.
   */
  compact(revision: bigint, batch: BackendBatch): PendingCompaction {
    assert(!this.executing && this.pending.length === 0, "compact while a write is pending");
    if (revision <= BigInt(this.compactMain)) throw new ErrCompacted();
    if (revision > BigInt(this.currentMain)) throw new ErrFutureRevision();
    batch.put(META_SCHEDULED_COMPACT, encodeMetaRevision(toMain(revision)));
    return { revision };
  }

  /**
   * commitCompaction makes a compaction effective: reads below it fail from now on; the index is compacted in
   * chunks and the obsolete revisions are deleted from the backend in bounded batches, yielding to writers in
   * between. The promise resolves when the physical deletion is done (Compact with physical=true waits).
   */
  commitCompaction(compaction: PendingCompaction): Promise<void> {
    const main = toMain(compaction.revision);
    assert(main > this.compactMain, "compaction revisions must grow");
    this.compactMain = main;
    const job = this.serial.then(() => this.runCompaction(main));
    this.serial = job.catch(() => {});
    return job;
  }

  private async runCompaction(main: number): Promise<void> {
    let longestPauseMs = 0;
    let from: string | undefined = "";
    while (from !== undefined) {
      const started = performance.now();
      from = this.index.compactFrom(from, main, this.compactionIndexChunk);
      longestPauseMs = Math.max(longestPauseMs, performance.now() - started);
      if (from !== undefined) await yieldToEventLoop();
    }
    await this.deleteCompacted(main, longestPauseMs);
  }

  private async deleteCompacted(main: number, pauseSoFarMs: number): Promise<void> {
    let longestPauseMs = pauseSoFarMs;
    let deletedRevisions = 0;
    const end = revisionLowerBound(main + 1);
    let from = revisionLowerBound(0);
    const snapshot = this.backend.snapshot();
    try {
      for (;;) {
        const entries = await snapshot.scan(from, end, this.compactionBatchLimit);
        const started = performance.now();
        const doomed: Uint8Array[] = [];
        for (const [rawKey, value] of entries) {
          const { revision } = decodeRevisionKey(rawKey);
          const key = decodeKeyValueMeta(value).key;
          if (!this.index.hasRevision(key, revision)) doomed.push(rawKey);
        }
        const finished = entries.length < this.compactionBatchLimit;
        longestPauseMs = Math.max(longestPauseMs, performance.now() - started);
        await this.backend.write((batch) => {
          for (const rawKey of doomed) batch.del(rawKey);
          if (finished) batch.put(META_FINISHED_COMPACT, encodeMetaRevision(main));
        });
        deletedRevisions += doomed.length;
        const last = entries[entries.length - 1];
        if (finished || last === undefined) break;
        from = successor(last[0]);
        await yieldToEventLoop();
      }
    } finally {
      await snapshot.close();
    }
    this.stats = { revision: main, deletedRevisions, longestPauseMs };
  }

  // ---- hashing ----

  /**
   * hashKV computes a CRC-32C over every stored revision up to `revision` (0 = current) that the history
   * still holds: two stores with the same history and the same compaction give the same hash.
   */
  async hashKV(revision: bigint): Promise<HashKVResult> {
    const atMain = this.resolveReadRevision(revision);
    const job = this.serial.then(() => this.computeHash(atMain));
    this.serial = job.then(
      () => {},
      () => {},
    );
    return job;
  }

  private async computeHash(atMain: number): Promise<HashKVResult> {
    if (atMain < this.compactMain) throw new ErrCompacted();
    // Index and backend are captured together: a restore swaps both at once.
    const compactMain = this.compactMain;
    const index = this.index;
    const snapshot = this.backend.snapshot();
    let hash = crc32cUpdate(0, Buffer.from("key", "latin1"));
    try {
      const end = revisionLowerBound(atMain + 1);
      let from = revisionLowerBound(0);
      for (;;) {
        const entries = await snapshot.scan(from, end, REBUILD_SCAN_CHUNK);
        for (const [rawKey, value] of entries) {
          const { revision } = decodeRevisionKey(rawKey);
          if (revision.main <= compactMain) {
            const key = decodeKeyValueMeta(value).key;
            if (!index.hasRevision(key, revision)) continue;
          }
          hash = crc32cUpdate(hash, rawKey);
          hash = crc32cUpdate(hash, value);
        }
        const last = entries[entries.length - 1];
        if (entries.length < REBUILD_SCAN_CHUNK || last === undefined) break;
        from = successor(last[0]);
      }
    } finally {
      await snapshot.close();
    }
    return { hash, compactRevision: BigInt(compactMain), hashRevision: BigInt(atMain) };
  }

  // ---- watch support (internal) ----

  /** snapshotNow opens a backend snapshot consistent with the committed index at this moment. */
  snapshotNow(): BackendSnapshot {
    return this.backend.snapshot();
  }

  /**
   * readEvents reads the changes of revisions [fromMain, toMain] from a snapshot, in revision order. Once
   * `maxEvents` are read it finishes the revision at hand and stops (a revision is never split); `lastMain` is
   * the last revision fully read.
   */
  async readEvents(
    snapshot: BackendSnapshot,
    fromMain: number,
    toMain: number,
    maxEvents: number = Number.POSITIVE_INFINITY,
  ): Promise<{ events: StoredEvent[]; lastMain: number }> {
    const events: StoredEvent[] = [];
    let lastMain = toMain;
    let end = revisionLowerBound(toMain + 1);
    let from = revisionLowerBound(fromMain);
    for (;;) {
      const entries = await snapshot.scan(from, end, REBUILD_SCAN_CHUNK);
      for (const [rawKey, value] of entries) {
        const { revision, tombstone } = decodeRevisionKey(rawKey);
        if (revision.main > lastMain) break;
        const kv = decodeKeyValue(value);
        events.push({ key: keyToString(kv.key), revision, deleted: tombstone, kv });
        if (events.length >= maxEvents && lastMain > revision.main) {
          // Enough: read the rest of this revision only.
          lastMain = revision.main;
          end = revisionLowerBound(lastMain + 1);
        }
      }
      const last = entries[entries.length - 1];
      if (entries.length < REBUILD_SCAN_CHUNK || last === undefined) break;
      from = successor(last[0]);
      if (Buffer.compare(from, end) >= 0) break;
    }
    return { events, lastMain };
  }

  /**
   * previousKeyValue reads the live value of `key` just before `revision` through a snapshot; undefined when
   * the key did not exist then or that history is compacted away.
   */
  async previousKeyValue(
    snapshot: BackendSnapshot,
    key: string,
    revision: Revision,
  ): Promise<KeyValue | undefined> {
    const atMain = revision.main - 1;
    if (atMain < this.compactMain) return undefined;
    const info = this.index.get(key)?.get(atMain);
    if (info === undefined) return undefined;
    const [kv] = await readKeyValues(snapshot, [{ key, ...info }], this.recent);
    return kv;
  }

  /**
   * leasedKeys lists every live key that has a lease, with that lease: after opening, the server hands these
   * to the lessor so that it re-attaches them.
   */
  leasedKeys(): LeaseChange[] {
    const out: LeaseChange[] = [];
    for (const [key, index] of this.index.entries()) {
      if (index.isLive() && index.lease !== 0n) {
        out.push({ key: keyFromString(key), previousLease: 0n, lease: index.lease });
      }
    }
    return out;
  }

  /** describeIndex renders the index for tests comparing a store with its reopened self. */
  describeIndex(): string {
    const lines: string[] = [];
    for (const [key, index] of this.index.entries()) {
      const generations = index.generations.map((g) => {
        const onlyTombstone = g.revs.length === 1 && g !== index.generations[index.generations.length - 1];
        const revs = g.revs.map((r) => `${r.main}.${r.sub}`).join(",");
        return onlyTombstone ? `[${revs}]` : `{c${g.created} v${g.version} ${revs}}`;
      });
      lines.push(`${JSON.stringify(key)} lease=${index.lease} ${generations.join(" ")}`);
    }
    return lines.join("\n");
  }

  /** close waits for background compaction; the caller closes the database afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.serial.catch(() => {});
  }
}

function revisionKeyString(revision: Revision): string {
  return Buffer.from(encodeRevisionKey(revision)).toString("latin1");
}

/**
 * withPendingValues is a read view that answers revision keys of pending writes from memory (their batch is
 * not written yet) and everything else from `snapshot`.
 */
function withPendingValues(
  snapshot: BackendSnapshot,
  values: ReadonlyMap<string, Uint8Array>,
): BackendSnapshot {
  const lookup = (key: Uint8Array) => values.get(Buffer.from(key).toString("latin1"));
  return {
    get: async (key) => lookup(key) ?? snapshot.get(key),
    getMany: async (keys) => {
      const found = keys.map(lookup);
      const missing = keys.filter((_, i) => found[i] === undefined);
      if (missing.length === 0) return found;
      const stored = await snapshot.getMany(missing);
      let next = 0;
      return found.map((value) => value ?? stored[next++]);
    },
    scan: (from, to, limit) => snapshot.scan(from, to, limit),
    close: () => snapshot.close(),
  };
}
