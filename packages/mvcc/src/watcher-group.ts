import type { Watcher } from "./watcher.js";

/**
 * WatcherGroup is a set of watchers with a fast lookup by key: single-key watchers sit in a map, range
 * watchers in a list that is scanned.
 */
export class WatcherGroup {
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly ranges = new Set<Watcher>();
  private prevKvWatchers = 0;
  private count = 0;

  /** size is the number of watchers in the group. */
  get size(): number {
    return this.count;
  }

  /** add puts a watcher in the group (idempotent). */
  add(watcher: Watcher): void {
    const { range } = watcher.options;
    if (range.end === undefined) {
      let set = this.byKey.get(range.start);
      if (set === undefined) {
        set = new Set();
        this.byKey.set(range.start, set);
      }
      if (set.has(watcher)) return;
      set.add(watcher);
    } else {
      if (this.ranges.has(watcher)) return;
      this.ranges.add(watcher);
    }
    this.count++;
    if (watcher.options.prevKv) this.prevKvWatchers++;
  }

  /** delete removes a watcher; false when it was not in the group. */
  delete(watcher: Watcher): boolean {
    const { range } = watcher.options;
    let removed: boolean;
    if (range.end === undefined) {
      const set = this.byKey.get(range.start);
      removed = set?.delete(watcher) ?? false;
      if (set !== undefined && set.size === 0) this.byKey.delete(range.start);
    } else {
      removed = this.ranges.delete(watcher);
    }
    if (removed) {
      this.count--;
      if (watcher.options.prevKv) this.prevKvWatchers--;
    }
    return removed;
  }

  /** has tells whether the watcher is in the group. */
  has(watcher: Watcher): boolean {
    const { range } = watcher.options;
    if (range.end === undefined) return this.byKey.get(range.start)?.has(watcher) ?? false;
    return this.ranges.has(watcher);
  }

  /** watchersOf lists the watchers that cover `key`. */
  watchersOf(key: string): Watcher[] {
    const out: Watcher[] = [];
    const single = this.byKey.get(key);
    if (single !== undefined) for (const watcher of single) out.push(watcher);
    for (const watcher of this.ranges) if (watcher.covers(key)) out.push(watcher);
    return out;
  }

  /** wantsPrevKv tells whether some watcher that covers `key` asked for previous values. */
  wantsPrevKv(key: string): boolean {
    if (this.prevKvWatchers === 0) return false;
    return this.watchersOf(key).some((watcher) => watcher.options.prevKv);
  }

  /** all lists every watcher. */
  all(): Watcher[] {
    const out: Watcher[] = [...this.ranges];
    for (const set of this.byKey.values()) for (const watcher of set) out.push(watcher);
    return out;
  }
}
