import { assert } from "./assert.js";
import type { LeaseId } from "./lease-id.js";

/**
 * QueueItem is one scheduled moment for one lease: its deadline in the expiry queue, or its next checkpoint
 * in the checkpoint queue. `token` tells a live item from a stale one: the lessor bumps a lease's token
 * whenever it reschedules it, and ignores popped items whose token no longer matches (lazy deletion, so a
 * renew costs O(log n) instead of a search through the heap).
 */
export interface QueueItem {
  readonly atMs: number;
  readonly id: LeaseId;
  readonly token: number;
}

/**
 * LeaseQueue is a binary min-heap of {@link QueueItem}s ordered by time, then lease id (so that leases due
 * at the same millisecond come out in the same order on every run).
 */
export class LeaseQueue {
  // Invariant: for every i > 0, items[parent(i)] is not after items[i].
  private items: QueueItem[] = [];

  /** size is the number of items, live and stale. */
  get size(): number {
    return this.items.length;
  }

  /** push adds an item in O(log n). */
  push(item: QueueItem): void {
    assert(!Number.isNaN(item.atMs), "queue time is NaN");
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  /** peek returns the earliest item without removing it. */
  peek(): QueueItem | undefined {
    return this.items[0];
  }

  /** pop removes and returns the earliest item in O(log n). */
  pop(): QueueItem | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top === undefined || last === undefined) {
      return undefined;
    }
    if (this.items.length > 0) {
      this.items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** clear drops every item. */
  clear(): void {
    this.items = [];
  }

  /** retain keeps only the items `keep` accepts and restores the heap order in O(n). */
  retain(keep: (item: QueueItem) => boolean): void {
    this.items = this.items.filter(keep);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) {
      this.siftDown(i);
    }
  }

  private siftUp(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) {
        return;
      }
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(start: number): void {
    const n = this.items.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && this.before(left, smallest)) {
        smallest = left;
      }
      if (right < n && this.before(right, smallest)) {
        smallest = right;
      }
      if (smallest === i) {
        return;
      }
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private before(a: number, b: number): boolean {
    const x = this.items[a]!;
    const y = this.items[b]!;
    if (x.atMs !== y.atMs) {
      return x.atMs < y.atMs;
    }
    if (x.id !== y.id) {
      return x.id < y.id;
    }
    return x.token < y.token;
  }

  private swap(a: number, b: number): void {
    const x = this.items[a]!;
    this.items[a] = this.items[b]!;
    this.items[b] = x;
  }
}
