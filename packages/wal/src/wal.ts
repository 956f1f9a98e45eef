import { dirname, join } from "node:path";
import { assert } from "./assert.js";
import { crc32c } from "./crc32c.js";
import {
  WalBusyError,
  WalClosedError,
  WalCorruptError,
  WalExistsError,
  WalFailedError,
  WalFormatError,
  WalIndexGapError,
  WalMetadataConflictError,
  WalNotFoundError,
  WalRecordTooLargeError,
  WalSnapshotMismatchError,
  WalSnapshotNotFoundError,
} from "./errors.js";
import {
  encodeSegmentHeader,
  FLAG_LAST_IN_BATCH,
  FRAME_HEADER_BYTES,
  frameBytes,
  SEGMENT_HEADER_BYTES,
  sealFrame,
} from "./frame.js";
import { type WalFileHandle, type WalFs, zeroTailOf } from "./fs.js";
import { NodeWalFs } from "./node-fs.js";
import {
  decodeEntry,
  decodeHardState,
  decodeMetadata,
  decodeRecord,
  decodeSnapshotMarker,
  encodeEntry,
  encodeHardState,
  encodeMetadata,
  encodeSnapshotMarker,
  RecordDecodeError,
  recordBytes,
  WalRecordType,
  writeRecord,
} from "./record.js";
import {
  formatSegmentName,
  parseSegmentName,
  SEGMENT_SUFFIX,
  type SegmentName,
  TEMP_SUFFIX,
} from "./segment-name.js";
import { scanSegment } from "./segment-scan.js";
import {
  type Entry,
  emptyHardState,
  type HardState,
  type ReadAllResult,
  type WalMetadata,
  type WalSnapshot,
} from "./types.js";

/** DEFAULT_SEGMENT_BYTES is etcd's WAL segment size, 64 MiB. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** DEFAULT_MAX_RECORD_BYTES bounds one record (etcd's default max WAL entry size, 10 MiB). */
export const DEFAULT_MAX_RECORD_BYTES = 10 * 1024 * 1024;
/** DEFAULT_MAX_GROUP_BYTES bounds what one group commit writes before its sync (saves are not split). */
export const DEFAULT_MAX_GROUP_BYTES = 16 * 1024 * 1024;
/** DEFAULT_MAX_PENDING_SAVES bounds the saves waiting for a group commit. */
export const DEFAULT_MAX_PENDING_SAVES = 10_000;

/** Room a WalRecord needs around its payload (type, crc and length fields). */
const RECORD_OVERHEAD_BYTES = 16;
/** Size of the zero writes that pre-allocate a segment. */
const ZERO_CHUNK_BYTES = 1024 * 1024;

/** WalOptions configures a {@link Wal}; every field has a default. */
export interface WalOptions {
  /** The file system (default: the real one, {@link NodeWalFs}). */
  fs?: WalFs;
  /** A segment is cut when its size reaches this (default 64 MiB). */
  segmentBytes?: number;
  /**
   * The largest record written, and accepted when reading (default 10 MiB). Reading checks every length
   * field against it before allocating anything, so reopen a log with at least the value it was written with.
   */
  maxRecordBytes?: number;
  /** A group commit stops taking saves past this many bytes (default 16 MiB; one save is never split). */
  maxGroupBytes?: number;
  /** Saves waiting for their group commit beyond this are refused with WalBusyError (default 10 000). */
  maxPendingSaves?: number;
  /** How many releasable segments {@link Wal.releaseTo} keeps anyway, newest first (default 0). */
  retainSegments?: number;
  /**
   * Whether segments are pre-allocated by writing zeros up to `segmentBytes` before use (default true), so
   * an append changes no file metadata and fdatasync stays cheap.
   */
  preallocate?: boolean;
  /** Told about syncs, cuts and repairs, e.g. to feed metrics and logs (default: nobody). */
  observer?: WalObserver;
  /** Milliseconds from an arbitrary origin, for the sync durations given to `observer` (default performance.now). */
  clock?: () => number;
}

/**
 * WalObserver hears what the log does, for metrics (etcd's `etcd_disk_wal_fsync_duration_seconds`,
 * `etcd_disk_wal_write_bytes_total`) and logs. Callbacks run synchronously and must not throw.
 */
export interface WalObserver {
  /** A group commit is durable: its fdatasync took `syncSeconds`; it held `saves` saves in `bytes` bytes. */
  synced?(event: { syncSeconds: number; saves: number; bytes: number }): void;
  /** A new segment was started. */
  segmentCut?(event: { name: string; baseIndex: number }): void;
  /** Recovery cut off a torn tail: `file` from `offset` on, for `reason`. */
  tailRepaired?(event: { file: string; offset: number; reason: string }): void;
}

type Settings = Required<Omit<WalOptions, "fs" | "observer">> & { fs: WalFs; observer: WalObserver };

function settings(options: WalOptions = {}): Settings {
  const s: Settings = {
    fs: options.fs ?? new NodeWalFs(),
    segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
    maxGroupBytes: options.maxGroupBytes ?? DEFAULT_MAX_GROUP_BYTES,
    maxPendingSaves: options.maxPendingSaves ?? DEFAULT_MAX_PENDING_SAVES,
    retainSegments: options.retainSegments ?? 0,
    preallocate: options.preallocate ?? true,
    observer: options.observer ?? {},
    clock: options.clock ?? (() => performance.now()),
  };
  assert(Number.isSafeInteger(s.segmentBytes) && s.segmentBytes >= 64, "segmentBytes must be >= 64");
  assert(Number.isSafeInteger(s.maxRecordBytes) && s.maxRecordBytes >= 64, "maxRecordBytes must be >= 64");
  assert(s.maxRecordBytes < 2 ** 32, "maxRecordBytes must fit the 32-bit length field");
  assert(s.maxGroupBytes >= 1 && s.maxPendingSaves >= 1, "bounds must be positive");
  assert(Number.isSafeInteger(s.retainSegments) && s.retainSegments >= 0, "retainSegments must be >= 0");
  return s;
}

/** One record to write: its type and payload (the chained checksum is computed when it is written). */
interface PendingRecord {
  type: WalRecordType;
  data: Uint8Array;
}

/** A save waiting for its group commit. */
interface PendingSave {
  records: PendingRecord[];
  bytes: number;
  /** Applies the save to the writer's state once it is durable. */
  onDurable: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The segment being appended to. */
interface Tail {
  handle: WalFileHandle;
  seq: number;
  baseIndex: number;
  /** Where the next frame goes (end of the last complete batch). */
  offset: number;
}

/** A file made ready to become the next segment: header written, space pre-allocated, synced. */
interface PreparedSegment {
  handle: WalFileHandle;
  path: string;
}

type Phase = "opened" | "ready" | "closed";

const PREPARED_NAME = `next${SEGMENT_SUFFIX}${TEMP_SUFFIX}`;
const CREATING_NAME = `create${SEGMENT_SUFFIX}${TEMP_SUFFIX}`;

/**
 * Wal is a segmented write-ahead log of raft hard states, entries and snapshot markers.
 *
 * Life cycle: {@link Wal.create} a new log (ready to write), or {@link Wal.open} an existing one at a
 * snapshot marker and call {@link Wal.readAll} once (it recovers, cuts a torn tail, and makes the log
 * ready to write). {@link Wal.save} is durable when its promise resolves; saves issued while a write is in
 * flight share the next write and its single fdatasync (group commit). Any write or sync error stops the
 * log for good ({@link WalFailedError}).
 */
export class Wal {
  private readonly s: Settings;
  private phase: Phase = "opened";
  /** All segments, oldest first (including ones before the one reading started from). */
  private segments: SegmentName[];
  private tail: Tail | undefined;
  private chain = 0;
  private nextBatch = 0;
  /** Index of the last entry durable in the log (or of the snapshot marker, if later). */
  private lastIndex = 0;
  /** lastIndex including saves still queued: new entries must follow it. */
  private queuedLastIndex = 0;
  private hardState: HardState = emptyHardState();
  /** The latest snapshot marker in the log; each new segment repeats it so it survives releases. */
  private latestMarker: WalSnapshot = { index: 0, term: 0 };
  private metadata: WalMetadata | undefined;
  private queue: PendingSave[] = [];
  private flushing: Promise<void> | undefined;
  private prepared: Promise<PreparedSegment> | undefined;
  private failure: WalFailedError | undefined;

  private constructor(
    private readonly dir: string,
    segments: SegmentName[],
    private readonly start: WalSnapshot,
    options: Settings,
  ) {
    this.s = options;
    this.segments = segments;
  }

  /**
   * create makes a new log in `dir` (created if missing) for `metadata`, with a snapshot marker at index 0,
   * and returns it ready to write. Fails with WalExistsError when `dir` already holds segments.
   */
  static async create(dir: string, metadata: WalMetadata, options?: WalOptions): Promise<Wal> {
    const s = settings(options);
    await s.fs.mkdir(dir);
    const names = await s.fs.readdir(dir);
    if (names.some((name) => name.endsWith(SEGMENT_SUFFIX))) throw new WalExistsError(dir);
    await removeTempFiles(s.fs, dir, names);

    const path = join(dir, CREATING_NAME);
    const { buffer, chain } = buildBatch(
      [
        { type: WalRecordType.CRC, data: new Uint8Array(0) },
        { type: WalRecordType.METADATA, data: encodeMetadata(metadata) },
        { type: WalRecordType.SNAPSHOT, data: encodeSnapshotMarker({ index: 0, term: 0 }) },
      ],
      0,
      0,
    );
    const handle = await s.fs.open(path, { create: true });
    try {
      await writeSegmentStart(s, handle);
      await handle.pwrite(buffer, SEGMENT_HEADER_BYTES);
      await handle.fdatasync();
      // The segment gets its name only once its first batch is durable.
      await s.fs.rename(path, join(dir, formatSegmentName(0, 0)));
      await s.fs.fsyncDir(dir);
      await s.fs.fsyncDir(dirname(dir));
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }

    const wal = new Wal(dir, [{ seq: 0, baseIndex: 0 }], { index: 0, term: 0 }, s);
    wal.tail = { handle, seq: 0, baseIndex: 0, offset: SEGMENT_HEADER_BYTES + buffer.length };
    wal.chain = chain;
    wal.nextBatch = 1;
    wal.metadata = { ...metadata };
    wal.becomeReady();
    return wal;
  }

  /** exists tells whether `dir` holds WAL segments. */
  static async exists(dir: string, options?: Pick<WalOptions, "fs">): Promise<boolean> {
    const fs = options?.fs ?? new NodeWalFs();
    return (await fs.readdir(dir)).some((name) => parseSegmentName(name) !== undefined);
  }

  /**
   * open opens the log in `dir` for reading from the snapshot marker `snapshot` (index 0, term 0 for a log
   * without snapshots). Call {@link Wal.readAll} next; it does the reading and the recovery.
   */
  static async open(dir: string, snapshot: WalSnapshot, options?: WalOptions): Promise<Wal> {
    const s = settings(options);
    await removeTempFiles(s.fs, dir, await s.fs.readdir(dir));
    const segments = await listSegments(s.fs, dir);
    if (!segments.some((segment) => segment.baseIndex <= snapshot.index)) throw new WalNotFoundError(dir);
    return new Wal(dir, segments, { index: snapshot.index, term: snapshot.term }, s);
  }

  /**
   * readAll reads the log from the snapshot marker it was opened at: the metadata, the latest hard state,
   * and the entries after the marker (an entry at index i replaces all read before at >= i). A torn tail
   * left by a crash is cut off; damage to synced records fails with WalCorruptError. Afterwards the log is
   * ready to write. Call it once, right after open.
   */
  async readAll(): Promise<ReadAllResult> {
    assert(this.phase === "opened", "readAll is called once, right after open");
    const first = findLast(this.segments, (segment) => segment.baseIndex <= this.start.index);
    assert(first >= 0, "open checked that a segment covers the snapshot");

    const entries: Entry[] = [];
    let hardState = emptyHardState();
    let foundMarker = false;
    let latestMarker: WalSnapshot = { index: this.start.index, term: this.start.term };
    const walked = await walkSegments(this.s, this.dir, this.segments.slice(first), "repair", {
      lastIndex: () => entries.at(-1)?.index ?? 0,
      entry: (entry, file) => {
        if (entry.index <= this.start.index) return;
        const position = entry.index - this.start.index - 1;
        if (position > entries.length) {
          throw new WalIndexGapError(file, this.start.index + entries.length + 1, entry.index);
        }
        entries.length = position;
        entries.push(entry);
      },
      hardState: (state) => {
        hardState = state;
      },
      snapshot: (marker) => {
        if (marker.index === this.start.index) {
          if (marker.term !== this.start.term) {
            throw new WalSnapshotMismatchError(marker.index, this.start.term, marker.term);
          }
          foundMarker = true;
        }
        if (marker.index >= latestMarker.index) latestMarker = marker;
      },
    });
    if (!foundMarker) {
      await walked.tail?.handle.close();
      throw new WalSnapshotNotFoundError(this.start.index);
    }
    assert(walked.tail, "repair mode keeps the last segment open");
    this.tail = walked.tail;
    this.chain = walked.chain;
    this.nextBatch = (walked.lastBatch + 1) >>> 0;
    this.lastIndex = Math.max(this.start.index, entries.at(-1)?.index ?? 0);
    this.hardState = hardState;
    this.latestMarker = latestMarker;
    this.metadata = walked.metadata;
    this.becomeReady();
    return { metadata: { ...walked.metadata }, hardState: { ...hardState }, entries };
  }

  /**
   * readSnapshotMarkers reads the whole log in `dir` without changing it and returns the snapshot markers
   * that can be opened at: those at or below the commit index of the latest hard state (etcd's
   * ValidSnapshotEntries). The server picks the newest snapshot file that has one of them.
   */
  static async readSnapshotMarkers(dir: string, options?: WalOptions): Promise<WalSnapshot[]> {
    const s = settings(options);
    const segments = await listSegments(s.fs, dir);
    const markers: WalSnapshot[] = [];
    let hardState = emptyHardState();
    let lastIndex = 0;
    await walkSegments(s, dir, segments, "read-only", {
      lastIndex: () => lastIndex,
      entry: (entry) => {
        lastIndex = entry.index;
      },
      hardState: (state) => {
        hardState = state;
      },
      snapshot: (marker) => {
        // Each segment repeats the latest marker; keep one of each.
        if (!markers.some((m) => m.index === marker.index && m.term === marker.term)) markers.push(marker);
      },
    });
    return markers.filter((marker) => marker.index <= hardState.commit);
  }

  /**
   * save makes `entries` and then `hardState` (if given) durable, in ONE write and ONE fdatasync shared
   * with every other save issued meanwhile. Entries must be contiguous and must not leave a gap after
   * the log's last index; an entry at an index already in the log replaces it and all after it.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[]): Promise<void> {
    const blocked = this.writeBlocked();
    if (blocked) return Promise.reject(blocked);
    if (!hardState && entries.length === 0) return Promise.resolve();
    const records: PendingRecord[] = [];
    let bytes = 0;
    const first = entries[0];
    if (first) {
      assert(
        Number.isSafeInteger(first.index) && first.index >= 1 && first.index <= this.queuedLastIndex + 1,
        `entry ${first.index} leaves a gap after the log's last index ${this.queuedLastIndex}`,
      );
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      assert(i === 0 || entry.index === entries[i - 1]!.index + 1, "entries must be contiguous");
      const data = encodeEntry(entry);
      if (data.length + RECORD_OVERHEAD_BYTES > this.s.maxRecordBytes) {
        return Promise.reject(new WalRecordTooLargeError(data.length, this.s.maxRecordBytes));
      }
      records.push({ type: WalRecordType.ENTRY, data });
      bytes += frameBytes(data.length + RECORD_OVERHEAD_BYTES);
    }
    if (hardState) {
      const data = encodeHardState(hardState);
      records.push({ type: WalRecordType.HARD_STATE, data });
      bytes += frameBytes(data.length + RECORD_OVERHEAD_BYTES);
    }
    const last = entries.at(-1);
    if (last) this.queuedLastIndex = last.index;
    const state = hardState ? { ...hardState } : undefined;
    return this.enqueue(records, bytes, () => {
      if (last) this.lastIndex = last.index;
      if (state) this.hardState = state;
    });
  }

  /**
   * saveSnapshot makes a snapshot marker durable, so the log can later be opened at it. The marker's index
   * must be covered by the log (raft only snapshots what it has).
   */
  saveSnapshot(snapshot: WalSnapshot): Promise<void> {
    const blocked = this.writeBlocked();
    if (blocked) return Promise.reject(blocked);
    const data = encodeSnapshotMarker(snapshot);
    if (data.length + RECORD_OVERHEAD_BYTES > this.s.maxRecordBytes) {
      return Promise.reject(new WalRecordTooLargeError(data.length, this.s.maxRecordBytes));
    }
    this.queuedLastIndex = Math.max(this.queuedLastIndex, snapshot.index);
    const marker = { ...snapshot };
    return this.enqueue(
      [{ type: WalRecordType.SNAPSHOT, data }],
      frameBytes(data.length + RECORD_OVERHEAD_BYTES),
      () => {
        this.lastIndex = Math.max(this.lastIndex, marker.index);
        if (marker.index >= this.latestMarker.index) this.latestMarker = marker;
      },
    );
  }

  /**
   * releaseTo removes the segments holding only entries at or below `index` (the index of a snapshot that
   * was saved), except the newest `retainSegments` of them and never the segment being written. The oldest
   * go first, so a crash in between leaves a contiguous log.
   */
  async releaseTo(index: number): Promise<void> {
    if (this.phase === "closed") throw new WalClosedError();
    if (this.failure) throw this.failure;
    assert(this.phase === "ready", "readAll must run before segments are released");
    // Segment k holds entries after its base index, up to the next segment's base index, so it is
    // releasable once that is <= index. The tail segment never is.
    let releasable = 0;
    while (releasable + 1 < this.segments.length && this.segments[releasable + 1]!.baseIndex <= index) {
      releasable++;
    }
    const count = Math.max(0, releasable - this.s.retainSegments);
    if (count === 0) return;
    // Forget each segment only once its file is gone, so a failed unlink can be retried by a later call.
    for (let i = 0; i < count; i++) {
      await this.s.fs.unlink(this.segmentPath(this.segments[0]!));
      this.segments.shift();
    }
    await this.s.fs.fsyncDir(this.dir);
  }

  /** close waits for queued saves, then releases the files. The log cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.phase === "closed") return;
    while (this.flushing) await this.flushing;
    this.phase = "closed";
    const tail = this.tail;
    this.tail = undefined;
    await tail?.handle.close().catch(() => undefined);
    const prepared = this.prepared;
    this.prepared = undefined;
    if (prepared) {
      const segment = await prepared.catch(() => undefined);
      if (segment) {
        await segment.handle.close().catch(() => undefined);
        await this.s.fs.unlink(segment.path).catch(() => undefined);
      }
    }
  }

  /** The index of the last entry (or snapshot marker, if later) durable in the log. */
  get lastDurableIndex(): number {
    return this.lastIndex;
  }

  /** The segment files, oldest first (names relative to the WAL directory). */
  get segmentNames(): string[] {
    return this.segments.map((segment) => formatSegmentName(segment.seq, segment.baseIndex));
  }

  /** The error that stopped the log, if one did. */
  get failed(): WalFailedError | undefined {
    return this.failure;
  }

  // ---- writing ----

  private writeBlocked(): Error | undefined {
    if (this.phase === "closed") return new WalClosedError();
    if (this.failure) return this.failure;
    assert(this.phase === "ready", "readAll must run before the log is written");
    if (this.queue.length >= this.s.maxPendingSaves) return new WalBusyError(this.s.maxPendingSaves);
    return undefined;
  }

  private becomeReady(): void {
    this.phase = "ready";
    this.queuedLastIndex = this.lastIndex;
    this.prepareIfHalfFull();
  }

  /**
   * prepareIfHalfFull starts preparing the next segment once the tail is half full: early enough that the
   * cut finds it ready, late enough that an idle or fresh log does not write a segment of zeros for nothing.
   */
  private prepareIfHalfFull(): void {
    if (!this.prepared && this.tail && this.tail.offset >= this.s.segmentBytes / 2) this.prepareNext();
  }

  private enqueue(records: PendingRecord[], bytes: number, onDurable: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, bytes, onDurable, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    // Start in a microtask, so that every save issued in the same synchronous run joins the first write.
    // (A macrotask hop would gather more, but costs a full event-loop turn per save for a lone caller.)
    // Saves arriving while a write is in flight queue up and share the next one: that is group commit.
    this.flushing = Promise.resolve()
      .then(() => this.flushLoop())
      .finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0) this.scheduleFlush();
      });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.failure) {
        for (const save of this.queue.splice(0)) save.reject(this.failure);
        return;
      }
      let bytes = 0;
      let take = 0;
      while (
        take < this.queue.length &&
        (take === 0 || bytes + this.queue[take]!.bytes <= this.s.maxGroupBytes)
      ) {
        bytes += this.queue[take]!.bytes;
        take++;
      }
      const group = this.queue.splice(0, take);
      try {
        await this.writeGroup(
          group.flatMap((save) => save.records),
          group.length,
        );
      } catch (error) {
        this.fail(error);
        for (const save of group) save.reject(this.failure);
        continue;
      }
      for (const save of group) {
        save.onDurable();
        save.resolve();
      }
      const tail = this.tail;
      assert(tail, "a ready log has a tail segment");
      this.prepareIfHalfFull();
      if (tail.offset >= this.s.segmentBytes) {
        try {
          await this.cut();
        } catch (error) {
          this.fail(error);
        }
      }
    }
  }

  /** writeGroup writes records as one batch at the tail and syncs once. */
  private async writeGroup(records: PendingRecord[], saves: number): Promise<void> {
    const tail = this.tail;
    assert(tail, "a ready log has a tail segment");
    const { buffer, chain } = buildBatch(records, this.chain, this.nextBatch);
    await tail.handle.pwrite(buffer, tail.offset);
    const started = this.s.clock();
    await tail.handle.fdatasync();
    this.s.observer.synced?.({ syncSeconds: (this.s.clock() - started) / 1000, saves, bytes: buffer.length });
    tail.offset += buffer.length;
    this.chain = chain;
    this.nextBatch = (this.nextBatch + 1) >>> 0;
  }

  /**
   * cut finishes the tail segment (trimmed to its data and synced) and starts the prepared one: its first
   * batch carries the checksum chain, the metadata, the hard state and the latest snapshot marker, and it
   * gets its name only after that batch is durable (rename + directory fsync).
   */
  private async cut(): Promise<void> {
    const tail = this.tail;
    assert(tail && this.metadata, "cut needs a tail and metadata");
    if (!this.prepared) this.prepareNext();
    const prepared = await this.prepared!;
    this.prepared = undefined;
    await tail.handle.truncate(tail.offset);
    await tail.handle.fdatasync();

    const records: PendingRecord[] = [
      { type: WalRecordType.CRC, data: new Uint8Array(0) },
      { type: WalRecordType.METADATA, data: encodeMetadata(this.metadata) },
    ];
    const hs = this.hardState;
    if (hs.term !== 0 || hs.vote !== 0n || hs.commit !== 0) {
      records.push({ type: WalRecordType.HARD_STATE, data: encodeHardState(hs) });
    }
    records.push({ type: WalRecordType.SNAPSHOT, data: encodeSnapshotMarker(this.latestMarker) });
    const { buffer, chain } = buildBatch(records, this.chain, this.nextBatch);
    await prepared.handle.pwrite(buffer, SEGMENT_HEADER_BYTES);
    await prepared.handle.fdatasync();
    const segment = { seq: tail.seq + 1, baseIndex: this.lastIndex };
    await this.s.fs.rename(prepared.path, this.segmentPath(segment));
    await this.s.fs.fsyncDir(this.dir);

    this.chain = chain;
    this.nextBatch = (this.nextBatch + 1) >>> 0;
    this.segments.push(segment);
    this.s.observer.segmentCut?.({
      name: formatSegmentName(segment.seq, segment.baseIndex),
      baseIndex: segment.baseIndex,
    });
    this.tail = { handle: prepared.handle, ...segment, offset: SEGMENT_HEADER_BYTES + buffer.length };
    await tail.handle.close();
    this.prepareIfHalfFull();
  }

  /** prepareNext starts preparing the next segment in the background; cut awaits it. */
  private prepareNext(): void {
    const path = join(this.dir, PREPARED_NAME);
    const prepared = (async (): Promise<PreparedSegment> => {
      const handle = await this.s.fs.open(path, { create: true });
      await writeSegmentStart(this.s, handle);
      return { handle, path };
    })();
    // A failure surfaces when cut awaits it; do not let it go unhandled meanwhile.
    prepared.catch(() => undefined);
    this.prepared = prepared;
  }

  private fail(error: unknown): void {
    this.failure ??= new WalFailedError(error);
  }

  private segmentPath(segment: SegmentName): string {
    return join(this.dir, formatSegmentName(segment.seq, segment.baseIndex));
  }
}

/**
 * buildBatch frames `records` as one batch: each record's checksum chained from the previous one, the
 * last frame flagged. Returns the bytes and the chain after the batch.
 */
function buildBatch(
  records: readonly PendingRecord[],
  previousChain: number,
  batch: number,
): { buffer: Uint8Array; chain: number } {
  assert(records.length > 0, "a batch has records");
  // First pass: the chained checksums, which fix each record's size (the checksum is a varint).
  let chain = previousChain;
  const crcs: number[] = [];
  let total = 0;
  for (const record of records) {
    chain = crc32c(record.data, chain);
    crcs.push(chain);
    total += frameBytes(recordBytes(record.type, chain, record.data.length));
  }
  // Second pass: each record straight into its frame, then the frame sealed around it.
  const buffer = new Uint8Array(total);
  let offset = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const start = offset + FRAME_HEADER_BYTES;
    const end = writeRecord(buffer, start, record.type, crcs[i]!, record.data);
    offset = sealFrame(buffer, offset, end - start, batch, i === records.length - 1 ? FLAG_LAST_IN_BATCH : 0);
  }
  assert(offset === total, "batch frames fill the buffer");
  return { buffer, chain };
}

/** writeSegmentStart writes a segment's header, pre-allocates it with zeros if configured, and syncs. */
async function writeSegmentStart(s: Settings, handle: WalFileHandle): Promise<void> {
  await handle.pwrite(encodeSegmentHeader(), 0);
  if (s.preallocate) {
    const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, s.segmentBytes));
    for (let at = SEGMENT_HEADER_BYTES; at < s.segmentBytes; at += zeros.length) {
      await handle.pwrite(zeros.subarray(0, Math.min(zeros.length, s.segmentBytes - at)), at);
    }
  }
  await handle.fdatasync();
}

async function removeTempFiles(fs: WalFs, dir: string, names: string[]): Promise<void> {
  const temps = names.filter((name) => name.endsWith(TEMP_SUFFIX));
  for (const name of temps) await fs.unlink(join(dir, name));
  if (temps.length > 0) await fs.fsyncDir(dir);
}

function findLast<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}

/**
 * listSegments returns the segments in `dir`, oldest first, checking that their sequence numbers have no
 * gap. Throws WalNotFoundError when there are none.
 */
async function listSegments(fs: WalFs, dir: string): Promise<SegmentName[]> {
  const segments: SegmentName[] = [];
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith(SEGMENT_SUFFIX)) continue;
    const parsed = parseSegmentName(name);
    if (!parsed) throw new WalFormatError(join(dir, name), "not a segment file name");
    segments.push(parsed);
  }
  if (segments.length === 0) throw new WalNotFoundError(dir);
  segments.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1]!;
    const segment = segments[i]!;
    if (segment.seq !== previous.seq + 1) {
      throw new WalFormatError(
        join(dir, formatSegmentName(segment.seq, segment.baseIndex)),
        `segment sequence gap: expected ${previous.seq + 1}, found ${segment.seq}`,
      );
    }
    // Base indexes may go down: a conflicting tail replaced entries before a cut.
  }
  return segments;
}

/** What a walk over the log reports, record by record (metadata and checksums are handled inside). */
interface RecordVisitor {
  /** The index of the last entry taken so far, named by WalCorruptError. */
  lastIndex(): number;
  entry(entry: Entry, file: string): void;
  hardState(state: HardState): void;
  snapshot(marker: WalSnapshot): void;
}

/** The result of a walk: where the checksum chain and batch numbering stand, and the open tail. */
interface Walked {
  metadata: WalMetadata;
  chain: number;
  lastBatch: number;
  /** In "repair" mode: the last segment, open, its torn tail (if any) cut off. */
  tail?: Tail;
}

/**
 * walkSegments reads `segments` in order, checks every frame, the checksum chain and the metadata, and
 * hands the records to `visitor`. In "repair" mode a torn tail of the last segment is cut off (and the
 * space zeroed) and the last segment stays open for writing; "read-only" changes nothing.
 */
async function walkSegments(
  s: Settings,
  dir: string,
  segments: readonly SegmentName[],
  mode: "repair" | "read-only",
  visitor: RecordVisitor,
): Promise<Walked> {
  let metadata: WalMetadata | undefined;
  let chain: number | undefined;
  let lastBatch = -1;
  let tail: Tail | undefined;

  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const isLast = i === segments.length - 1;
    const file = join(dir, formatSegmentName(segment.seq, segment.baseIndex));
    const handle = await s.fs.open(file);
    let keepHandle = false;
    try {
      const sizeBytes = await handle.size();
      const bytes = await handle.read(0, sizeBytes);
      const scan = scanSegment(file, bytes, isLast, s.maxRecordBytes, zeroTailOf(bytes));
      const corrupt = (offset: number, reason: string): WalCorruptError =>
        new WalCorruptError(file, offset, visitor.lastIndex(), reason);
      let firstRecord = true;

      for (const batch of scan.batches) {
        for (const frame of batch.frames) {
          let record: ReturnType<typeof decodeRecord>;
          try {
            record = decodeRecord(frame.record);
          } catch (error) {
            throw corrupt(frame.offset, String(error));
          }
          if (firstRecord && record.type !== WalRecordType.CRC) {
            throw corrupt(frame.offset, "segment does not start with a crc record");
          }
          firstRecord = false;
          if (record.type === WalRecordType.CRC) {
            if (chain !== undefined && record.crc !== chain) {
              throw corrupt(frame.offset, "checksum chain broken between segments");
            }
            chain = record.crc;
            continue;
          }
          const expected = crc32c(record.data, chain);
          if (record.crc !== expected)
            throw corrupt(frame.offset, "record checksum does not continue the chain");
          chain = expected;
          try {
            switch (record.type) {
              case WalRecordType.METADATA: {
                const found = decodeMetadata(record.data);
                if (!metadata) metadata = found;
                else if (metadata.memberId !== found.memberId || metadata.clusterId !== found.clusterId) {
                  throw new WalMetadataConflictError(file);
                }
                break;
              }
              case WalRecordType.ENTRY:
                visitor.entry(decodeEntry(record.data), file);
                break;
              case WalRecordType.HARD_STATE:
                visitor.hardState(decodeHardState(record.data));
                break;
              case WalRecordType.SNAPSHOT:
                visitor.snapshot(decodeSnapshotMarker(record.data));
                break;
              default:
                throw corrupt(frame.offset, `unknown record type ${record.type}`);
            }
          } catch (error) {
            if (error instanceof RecordDecodeError) throw corrupt(frame.offset, error.message);
            throw error;
          }
        }
        lastBatch = batch.batch;
      }
      if (scan.corrupt) throw corrupt(scan.corrupt.offset, scan.corrupt.reason);
      if (isLast && mode === "repair") {
        if (scan.torn) {
          // A crash tore the last write: cut it off and zero the space so no stale frame survives.
          await handle.truncate(scan.end);
          await handle.truncate(Math.max(sizeBytes, scan.end));
          await handle.fdatasync();
          s.observer.tailRepaired?.({ file, offset: scan.end, reason: scan.torn.reason });
        }
        tail = { handle, seq: segment.seq, baseIndex: segment.baseIndex, offset: scan.end };
        keepHandle = true;
      }
    } finally {
      if (!keepHandle) await handle.close();
    }
  }
  if (!metadata) {
    await tail?.handle.close();
    throw new WalFormatError(dir, "no metadata record");
  }
  assert(chain !== undefined && lastBatch >= 0, "a readable segment has a first batch");
  const walked: Walked = { metadata, chain, lastBatch };
  if (tail) walked.tail = tail;
  return walked;
}
