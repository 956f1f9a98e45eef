import type { Event } from "@etcd-ts/proto/mvccpb";
import type { KeyRange } from "./key-range.js";
import { rangeContains } from "./key-range.js";

/** WatcherState tells whether a watcher receives events as they are committed or catches up from storage. */
export type WatcherState = "synced" | "unsynced";

/** WatcherOptions are the per-watcher settings of a WatchCreateRequest. */
export interface WatcherOptions {
  readonly range: KeyRange;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
}

/** WatcherOwner is the stream a watcher delivers to (implemented by WatchStream). */
export interface WatcherOwner {
  /** hasRoom tells whether the stream's bounded queue can take another event response. */
  hasRoom(): boolean;
  /** deliver queues one response with the watcher's events up to `revision`. */
  deliver(watcher: Watcher, events: Event[], revision: number): void;
  /** cancelCompacted queues the cancellation of a watcher that fell behind compaction and forgets it. */
  cancelCompacted(watcher: Watcher, compactMain: number): void;
  /** wake tells the stream that one of its watchers needs catching up. */
  wake(): void;
  /** afterSync lets the stream answer a deferred progress request once its watchers are synced. */
  afterSync(): void;
}

/**
 * Watcher is one watch on a key or range. Invariant: every event with revision below `nextMain` has been
 * queued for the client (or filtered out), and none at or above it has been; a synced watcher gets each new
 * revision as it is committed, an unsynced one is caught up from storage in bounded batches.
 */
export class Watcher {
  /** nextMain is the lowest revision whose events are not yet queued. */
  nextMain: number;
  state: WatcherState;
  canceled = false;

  constructor(
    readonly id: bigint,
    readonly owner: WatcherOwner,
    readonly options: WatcherOptions,
    nextMain: number,
    state: WatcherState,
  ) {
    this.nextMain = nextMain;
    this.state = state;
  }

  /** covers tells whether a key (binary string) is watched. */
  covers(key: string): boolean {
    return rangeContains(this.options.range, key);
  }

  /** wants tells whether an event of this kind passes the watcher's filters. */
  wants(deleted: boolean): boolean {
    return deleted ? !this.options.noDelete : !this.options.noPut;
  }
}
