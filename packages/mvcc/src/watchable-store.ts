import { create } from "@bufbuild/protobuf";
import { type Event, Event_EventType, EventSchema, type KeyValue } from "@etcd-ts/proto/mvccpb";
import type { Backend, BackendSnapshot } from "./backend.js";
import { KvStore, type KvStoreOptions, type StoredEvent } from "./kv-store.js";
import { DEFAULT_MAX_QUEUED_RESPONSES, type WatchHub, WatchStream } from "./watch-stream.js";
import type { Watcher } from "./watcher.js";
import { WatcherGroup } from "./watcher-group.js";
import type { Change } from "./write-txn.js";

/** WATCH_BATCH_MAX_REVISIONS is etcd's watchBatchMaxRevs: revisions per catch-up response at most. */
export const WATCH_BATCH_MAX_REVISIONS = 1000;
/**
 * WATCH_BATCH_MAX_EVENTS bounds the events one catch-up round reads from storage (a revision is still never
 * split, so one huge revision can exceed it).
 */
export const WATCH_BATCH_MAX_EVENTS = 10_000;

/** WatchableStoreOptions configures the store and its watch hub. */
export interface WatchableStoreOptions extends KvStoreOptions {
  /** maxQueuedResponses bounds each stream's queue of event responses (default 128). */
  maxQueuedResponses?: number;
  /**
   * maxResponseBytes is the size above which a response is split for watchers created with `fragment: true`
   * (the server's max request bytes; default: never split).
   */
  maxResponseBytes?: number;
  /** watchBatchMaxRevisions bounds the revisions of one catch-up response (default 1000). */
  watchBatchMaxRevisions?: number;
  /** watchBatchMaxEvents bounds the events one catch-up round reads (default 10000). */
  watchBatchMaxEvents?: number;
}

function eventOf(deleted: boolean, kv: KeyValue): Event {
  return create(EventSchema, { type: deleted ? Event_EventType.DELETE : Event_EventType.PUT, kv });
}

/**
 * WatchableStore is the KvStore with its watch hub. Synced watchers get the events of each write when it is
 * committed (after its batch is durable), all events of a revision in one response; watchers that start in the
 * past, or whose stream was full, are unsynced and caught up from storage in batches of at most
 * `watchBatchMaxRevisions` revisions, then rejoin the synced group.
 */
export class WatchableStore implements WatchHub {
  /** kv is the underlying store: reads, two-step writes, compaction, hashes. */
  readonly kv: KvStore;
  private readonly synced = new WatcherGroup();
  private readonly unsynced = new WatcherGroup();
  private readonly streams = new Set<WatchStream>();
  private readonly maxQueuedResponses: number;
  private readonly maxResponseBytes: number;
  private readonly batchMaxRevisions: number;
  private readonly batchMaxEvents: number;
  private syncing: Promise<void> | undefined;
  private restoring: Promise<void> | undefined;

  private constructor(kv: KvStore, options: WatchableStoreOptions) {
    this.kv = kv;
    this.maxQueuedResponses = options.maxQueuedResponses ?? DEFAULT_MAX_QUEUED_RESPONSES;
    this.maxResponseBytes = options.maxResponseBytes ?? Number.POSITIVE_INFINITY;
    this.batchMaxRevisions = options.watchBatchMaxRevisions ?? WATCH_BATCH_MAX_REVISIONS;
    this.batchMaxEvents = options.watchBatchMaxEvents ?? WATCH_BATCH_MAX_EVENTS;
    kv.setHooks({
      onCommit: (changes, main) => this.notify(changes, main),
      wantPrevKv: (key) => this.synced.wantsPrevKv(key),
    });
  }

  /** open opens the KvStore over the backend and attaches the watch hub. */
  static async open(options: WatchableStoreOptions): Promise<WatchableStore> {
    return new WatchableStore(await KvStore.open(options), options);
  }

  /** newWatchStream starts a stream for one client Watch call. */
  newWatchStream(): WatchStream {
    const stream = new WatchStream(this, this.maxQueuedResponses, this.maxResponseBytes);
    this.streams.add(stream);
    return stream;
  }

  /** closeWatchStream closes a stream and forgets it. */
  closeWatchStream(stream: WatchStream): void {
    stream.close();
  }

  /** syncedCount is the number of watchers that get events as they are committed. */
  get syncedCount(): number {
    return this.synced.size;
  }

  /** unsyncedCount is the number of watchers being caught up from storage (slow or replaying). */
  get unsyncedCount(): number {
    return this.unsynced.size;
  }

  /**
   * restore swaps in the state of `backend` (a raft snapshot installed by the server) and keeps every watcher:
   * all of them are caught up from the new state, from where they were (or canceled if that is compacted).
   */
  async restore(backend: Backend): Promise<void> {
    const restoring = (async () => {
      // No catch-up round may read the old backend through the new index, or the reverse.
      await this.syncing;
      const delivered = this.currentMain();
      await this.kv.restore(backend);
      for (const watcher of this.synced.all()) {
        this.synced.delete(watcher);
        watcher.nextMain = Math.max(watcher.nextMain, delivered + 1);
        watcher.state = "unsynced";
        this.unsynced.add(watcher);
      }
    })();
    this.restoring = restoring;
    try {
      await restoring;
    } finally {
      this.restoring = undefined;
    }
    for (const watcher of this.unsynced.all()) watcher.owner.wake();
  }

  /** notifyProgress sends the periodic progress notification to watchers that asked for it. */
  notifyProgress(): void {
    for (const stream of this.streams) stream.notifyProgress();
  }

  /** close closes every stream and the store. */
  async close(): Promise<void> {
    for (const stream of [...this.streams]) this.closeWatchStream(stream);
    await this.syncing;
    await this.kv.close();
  }

  // ---- WatchHub ----

  /** currentMain is the latest committed revision. */
  currentMain(): number {
    return Number(this.kv.currentRevision);
  }

  /** compactMain is the latest compaction revision. */
  compactMain(): number {
    return Number(this.kv.compactRevision);
  }

  /** register adds a new watcher to the group its state names. */
  register(watcher: Watcher): void {
    if (watcher.state === "synced") this.synced.add(watcher);
    else this.unsynced.add(watcher);
  }

  /** unregister removes a watcher from both groups. */
  unregister(watcher: Watcher): void {
    this.synced.delete(watcher);
    this.unsynced.delete(watcher);
  }

  /** release forgets a stream once it is closed. */
  release(stream: WatchStream): void {
    this.streams.delete(stream);
  }

  /** syncWatchers runs one catch-up round; concurrent callers share the round in flight. */
  syncWatchers(): Promise<void> {
    if (this.restoring !== undefined) return this.restoring.catch(() => {});
    if (this.syncing === undefined) {
      this.syncing = this.syncOnce().finally(() => {
        this.syncing = undefined;
      });
    }
    return this.syncing;
  }

  // ---- internals ----

  private moveToUnsynced(watcher: Watcher, main: number): void {
    this.synced.delete(watcher);
    watcher.nextMain = Math.max(watcher.nextMain, main);
    watcher.state = "unsynced";
    this.unsynced.add(watcher);
    watcher.owner.wake();
  }

  private moveToSynced(watcher: Watcher): void {
    this.unsynced.delete(watcher);
    watcher.state = "synced";
    this.synced.add(watcher);
  }

  /** notify hands the changes of a committed revision to synced watchers. */
  private notify(changes: readonly Change[], main: number): void {
    if (this.synced.size === 0) return;
    const perWatcher = new Map<Watcher, Change[]>();
    for (const change of changes) {
      for (const watcher of this.synced.watchersOf(change.key)) {
        if (main < watcher.nextMain) continue;
        let list = perWatcher.get(watcher);
        if (list === undefined) {
          list = [];
          perWatcher.set(watcher, list);
        }
        list.push(change);
      }
    }
    for (const [watcher, list] of perWatcher) {
      const events: Event[] = [];
      let missingPrevKv = false;
      for (const change of list) {
        if (!watcher.wants(change.deleted)) continue;
        const event = eventOf(change.deleted, change.kv);
        if (watcher.options.prevKv) {
          // The write read the previous value only if a prev_kv watcher covered the key when it ran.
          if (change.prevKv === undefined) {
            missingPrevKv = true;
            break;
          }
          if (change.prevKv !== null) event.prevKv = change.prevKv;
        }
        events.push(event);
      }
      if (missingPrevKv || (events.length > 0 && !watcher.owner.hasRoom())) {
        this.moveToUnsynced(watcher, main);
        continue;
      }
      if (events.length > 0) watcher.owner.deliver(watcher, events, main);
      watcher.nextMain = main + 1;
    }
  }

  private async syncOnce(): Promise<void> {
    const compact = this.compactMain();
    for (const watcher of this.unsynced.all()) {
      if (watcher.nextMain < compact) watcher.owner.cancelCompacted(watcher, compact);
    }
    const current = this.currentMain();
    const candidates = this.unsynced.all().filter((watcher) => watcher.owner.hasRoom());
    if (candidates.length > 0) {
      const low = Math.min(...candidates.map((watcher) => watcher.nextMain));
      if (low > current) {
        for (const watcher of candidates) this.moveToSynced(watcher);
      } else {
        const highest = Math.min(current, low + this.batchMaxRevisions - 1);
        // Taken in the same tick as `current`: every revision up to it is in the snapshot.
        const snapshot = this.kv.snapshotNow();
        try {
          const { events, lastMain: high } = await this.kv.readEvents(
            snapshot,
            low,
            highest,
            this.batchMaxEvents,
          );
          for (const watcher of candidates) {
            if (watcher.canceled || watcher.state !== "unsynced" || watcher.nextMain > high) continue;
            const out = await this.catchUpEvents(watcher, events, snapshot);
            if (watcher.canceled || !watcher.owner.hasRoom()) continue;
            if (out.length > 0) watcher.owner.deliver(watcher, out, high);
            watcher.nextMain = high + 1;
            if (high === this.currentMain()) this.moveToSynced(watcher);
          }
        } finally {
          await snapshot.close();
        }
      }
    }
    for (const stream of this.streams) stream.afterSync();
  }

  /** catchUpEvents selects a watcher's events from a stored batch, with previous values when asked. */
  private async catchUpEvents(
    watcher: Watcher,
    stored: readonly StoredEvent[],
    snapshot: BackendSnapshot,
  ): Promise<Event[]> {
    const out: Event[] = [];
    const latest = new Map<string, KeyValue | null>();
    for (const stored_ of stored) {
      if (!watcher.covers(stored_.key)) continue;
      let prevKv: KeyValue | null | undefined;
      if (watcher.options.prevKv) {
        if (latest.has(stored_.key)) prevKv = latest.get(stored_.key);
        else if (stored_.revision.main >= watcher.nextMain && watcher.wants(stored_.deleted)) {
          prevKv = (await this.kv.previousKeyValue(snapshot, stored_.key, stored_.revision)) ?? null;
        }
        latest.set(stored_.key, stored_.deleted ? null : stored_.kv);
      }
      if (stored_.revision.main < watcher.nextMain || !watcher.wants(stored_.deleted)) continue;
      const event = eventOf(stored_.deleted, stored_.kv);
      if (prevKv) event.prevKv = prevKv;
      out.push(event);
    }
    return out;
  }
}
