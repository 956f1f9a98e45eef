import { create } from "@bufbuild/protobuf";
import {
  type WatchCreateRequest,
  WatchCreateRequest_FilterType,
  type WatchResponse,
  WatchResponseSchema,
} from "@etcd-ts/proto/etcdserverpb";
import type { Event } from "@etcd-ts/proto/mvccpb";
import { assert } from "./assert.js";
import { ErrCompacted, ErrDuplicateWatchId, ErrWatchStreamClosed } from "./errors.js";
import { toKeyRange } from "./key-range.js";
import { fragmentWatchResponse } from "./watch-fragment.js";
import { Watcher, type WatcherOptions, type WatcherOwner } from "./watcher.js";

/** DEFAULT_MAX_QUEUED_RESPONSES bounds the event responses a stream buffers for a slow client. */
export const DEFAULT_MAX_QUEUED_RESPONSES = 128;

/** CANCEL_REASON_COMPACTED is the cancel_reason etcd sends when a watch start revision is compacted. */
export const CANCEL_REASON_COMPACTED = `etcdserver: ${new ErrCompacted().message}`;

/** WatchHub is what a stream needs from the watchable store. */
export interface WatchHub {
  currentMain(): number;
  compactMain(): number;
  /** register adds a new watcher to the synced or unsynced group, as its state says. */
  register(watcher: Watcher): void;
  /** unregister removes a watcher from whichever group holds it. */
  unregister(watcher: Watcher): void;
  /** syncWatchers runs one catch-up round for unsynced watchers. */
  syncWatchers(): Promise<void>;
  /** release forgets a closed stream. */
  release(stream: WatchStream): void;
}

/**
 * WatchStream is the mvcc side of one client Watch stream: many watchers, one ordered, bounded queue of
 * WatchResponse messages the server sends as they come (`next()` or `for await`). Catch-up of watchers that are
 * behind runs as the consumer pulls, so a slow client never makes the store buffer without bound: when the
 * queue is full, a watcher is set aside (unsynced) and later caught up from storage, without losing,
 * reordering or duplicating events.
 */
export class WatchStream implements WatcherOwner {
  private readonly watchers = new Map<bigint, Watcher>();
  /** queue holds responses in send order; `counted` ones are bounded by maxQueuedResponses. */
  private readonly queue: { response: WatchResponse; counted: boolean }[] = [];
  private queuedEventResponses = 0;
  private nextWatchId = 0n;
  private waiter: (() => void) | undefined;
  private closed = false;
  private progressPending = false;

  /** fragmenting holds the ids of watchers created with `fragment: true`. */
  private readonly fragmenting = new Set<bigint>();

  /**
   * A stream gets its bounds from the store: at most `maxQueuedResponses` event responses wait in its queue,
   * and a response over `maxResponseBytes` is split for watchers that asked for fragments.
   */
  constructor(
    private readonly hub: WatchHub,
    private readonly maxQueuedResponses: number = DEFAULT_MAX_QUEUED_RESPONSES,
    private readonly maxResponseBytes: number = Number.POSITIVE_INFINITY,
  ) {
    assert(maxQueuedResponses > 0, "a watch stream needs room for at least one response");
  }

  /** size is the number of active watchers on the stream. */
  get size(): number {
    return this.watchers.size;
  }

  /**
   * watch creates a watcher from a WatchCreateRequest and queues its `created` response: watch_id 0 picks the
   * next free id; an empty key means "\0"; range_end "\0" means every key >= key; start_revision 0 means from
   * now, an older one replays history, a compacted one is canceled with compact_revision. Returns the id, or
   * -1n when the requested id is taken (a canceled response says so).
   */
  watch(request: WatchCreateRequest): bigint {
    if (this.closed) throw new ErrWatchStreamClosed();
    let id = request.watchId;
    if (id === 0n) {
      while (this.watchers.has(this.nextWatchId)) this.nextWatchId++;
      id = this.nextWatchId++;
    } else if (this.watchers.has(id) || id < 0n) {
      this.push(
        create(WatchResponseSchema, {
          header: { revision: BigInt(this.hub.currentMain()) },
          watchId: -1n,
          created: true,
          canceled: true,
          cancelReason: new ErrDuplicateWatchId().message,
        }),
      );
      return -1n;
    }
    const key = request.key.length === 0 ? new Uint8Array([0]) : request.key;
    const options: WatcherOptions = {
      range: toKeyRange(key, request.rangeEnd),
      noPut: request.filters.includes(WatchCreateRequest_FilterType.NOPUT),
      noDelete: request.filters.includes(WatchCreateRequest_FilterType.NODELETE),
      prevKv: request.prevKv,
      progressNotify: request.progressNotify,
    };
    const current = this.hub.currentMain();
    const compact = this.hub.compactMain();
    this.push(
      create(WatchResponseSchema, { header: { revision: BigInt(current) }, watchId: id, created: true }),
    );
    const start = request.startRevision;
    if (start < 0n || (start > 0n && start < BigInt(compact))) {
      this.push(this.compactedResponse(id, compact));
      return id;
    }
    const nextMain = start === 0n ? current + 1 : Number(start);
    const watcher = new Watcher(id, this, options, nextMain, nextMain > current ? "synced" : "unsynced");
    this.watchers.set(id, watcher);
    if (request.fragment) this.fragmenting.add(id);
    this.hub.register(watcher);
    if (watcher.state === "unsynced") this.wake();
    return id;
  }

  /** cancel removes a watcher and queues its `canceled` response; false when the id is unknown. */
  cancel(watchId: bigint): boolean {
    const watcher = this.watchers.get(watchId);
    if (watcher === undefined || this.closed) return false;
    this.forget(watcher);
    this.push(
      create(WatchResponseSchema, {
        header: { revision: BigInt(this.hub.currentMain()) },
        watchId,
        canceled: true,
      }),
    );
    this.afterSync();
    return true;
  }

  /**
   * requestProgress queues a progress response (watch_id -1, header.revision = current revision) once every
   * watcher of the stream is synced, meaning every event up to that revision has been queued.
   */
  requestProgress(): void {
    if (this.closed) return;
    this.progressPending = true;
    this.afterSync();
    if (this.progressPending) this.wake();
  }

  /** notifyProgress queues an empty response for each synced watcher that asked for progress notifications. */
  notifyProgress(): void {
    for (const watcher of this.watchers.values()) {
      if (!watcher.options.progressNotify || watcher.state !== "synced" || !this.hasRoom()) continue;
      this.queuedEventResponses++;
      this.push(
        create(WatchResponseSchema, {
          header: { revision: BigInt(this.hub.currentMain()) },
          watchId: watcher.id,
        }),
        true,
      );
    }
  }

  /**
   * next resolves with the next response, undefined once the stream is closed. While the queue is empty and
   * some watcher of the stream is behind, it drives catch-up from storage.
   */
  async next(): Promise<WatchResponse | undefined> {
    for (;;) {
      const response = this.dequeue();
      if (response !== undefined) return response;
      if (this.closed) return undefined;
      if (this.hasUnsynced()) {
        await this.hub.syncWatchers();
        continue;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  /**
   * poll is `next()` that does not wait for new writes: it resolves undefined when the queue is empty and every
   * watcher is synced (catch-up still runs).
   */
  async poll(): Promise<WatchResponse | undefined> {
    for (;;) {
      const response = this.dequeue();
      if (response !== undefined) return response;
      if (this.closed || !this.hasUnsynced()) return undefined;
      await this.hub.syncWatchers();
    }
  }

  /** Symbol.asyncIterator yields responses until the stream is closed (`for await` over `next()`). */
  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    for (;;) {
      const response = await this.next();
      if (response === undefined) return;
      yield response;
    }
  }

  /** close cancels every watcher of the stream and ends `next()`. */
  close(): void {
    if (this.closed) return;
    for (const watcher of [...this.watchers.values()]) this.forget(watcher);
    this.closed = true;
    this.hub.release(this);
    this.wake();
  }

  // ---- WatcherOwner ----

  /** hasRoom tells whether another event response fits in the bounded queue. */
  hasRoom(): boolean {
    return !this.closed && this.queuedEventResponses < this.maxQueuedResponses;
  }

  /** deliver queues one event response of a watcher (the hub checked hasRoom first). */
  deliver(watcher: Watcher, events: Event[], revision: number): void {
    assert(this.watchers.get(watcher.id) === watcher, "delivery to a watcher that left the stream");
    assert(this.hasRoom(), "delivery to a full stream");
    this.queuedEventResponses++;
    this.push(
      create(WatchResponseSchema, { header: { revision: BigInt(revision) }, watchId: watcher.id, events }),
      true,
    );
  }

  /** cancelCompacted forgets a watcher that fell behind compaction and queues its cancellation. */
  cancelCompacted(watcher: Watcher, compactMain: number): void {
    this.forget(watcher);
    this.push(this.compactedResponse(watcher.id, compactMain));
  }

  /** wake resumes a consumer waiting in next(). */
  wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** afterSync answers a deferred progress request once every watcher of the stream is synced. */
  afterSync(): void {
    if (!this.progressPending || this.hasUnsynced()) return;
    this.progressPending = false;
    this.push(
      create(WatchResponseSchema, { header: { revision: BigInt(this.hub.currentMain()) }, watchId: -1n }),
    );
  }

  // ---- internals ----

  private dequeue(): WatchResponse | undefined {
    const entry = this.queue.shift();
    if (entry === undefined) return undefined;
    if (entry.counted) this.queuedEventResponses--;
    const response = entry.response;
    if (
      response.events.length > 1 &&
      this.maxResponseBytes !== Number.POSITIVE_INFINITY &&
      this.fragmenting.has(response.watchId)
    ) {
      const [first, ...rest] = fragmentWatchResponse(response, this.maxResponseBytes);
      this.queue.unshift(...rest.map((piece) => ({ response: piece, counted: false })));
      if (first !== undefined) return first;
    }
    return response;
  }

  private hasUnsynced(): boolean {
    for (const watcher of this.watchers.values()) if (watcher.state === "unsynced") return true;
    return false;
  }

  private forget(watcher: Watcher): void {
    watcher.canceled = true;
    this.watchers.delete(watcher.id);
    this.fragmenting.delete(watcher.id);
    this.hub.unregister(watcher);
  }

  private compactedResponse(watchId: bigint, compactMain: number): WatchResponse {
    return create(WatchResponseSchema, {
      header: { revision: BigInt(this.hub.currentMain()) },
      watchId,
      canceled: true,
      compactRevision: BigInt(compactMain),
      cancelReason: CANCEL_REASON_COMPACTED,
    });
  }

  private push(response: WatchResponse, counted = false): void {
    this.queue.push({ response, counted });
    this.wake();
  }
}
