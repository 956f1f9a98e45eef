import { type Permission, Permission_Type } from "@etcd-ts/proto/authpb";
import { assert } from "./assert.js";
import { compareEnds, compareKeys, type KeyInterval, permissionInterval } from "./key-interval.js";

/**
 * IntervalSet is a union of key intervals, kept as sorted, disjoint, non-touching intervals so that a
 * covering check is one binary search. It is built once from a user's permissions and then only read.
 */
export class IntervalSet {
  // Invariant: sorted by start; for consecutive a, b: a.end !== null && a.end < b.start (merged otherwise).
  readonly #intervals: KeyInterval[];

  constructor(intervals: Iterable<KeyInterval>) {
    const sorted = [...intervals]
      .filter((ivl) => ivl.end === null || compareKeys(ivl.start, ivl.end) < 0)
      .sort((a, b) => compareKeys(a.start, b.start));
    const merged: KeyInterval[] = [];
    for (const ivl of sorted) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.end !== null && compareKeys(ivl.start, last.end) <= 0) {
        // Overlapping or touching ([a,b) and [b,c) make [a,c)): extend the last one.
        if (compareEnds(ivl.end, last.end) > 0)
          merged[merged.length - 1] = { start: last.start, end: ivl.end };
      } else if (last === undefined || last.end !== null) {
        merged.push(ivl);
      }
      // else: the last interval is unbounded and already covers everything after its start.
    }
    for (let i = 1; i < merged.length; i++) {
      const a = merged[i - 1] as KeyInterval;
      const b = merged[i] as KeyInterval;
      assert(a.end !== null && compareKeys(a.end, b.start) < 0, "interval set must be disjoint and sorted");
    }
    this.#intervals = merged;
  }

  /** size is the number of disjoint intervals after merging. */
  get size(): number {
    return this.#intervals.length;
  }

  /** covers tells whether every key of `ivl` lies in the set. An empty interval is covered. */
  covers(ivl: KeyInterval): boolean {
    if (ivl.end !== null && compareKeys(ivl.start, ivl.end) >= 0) return true;
    // Find the last interval whose start <= ivl.start; only it can contain ivl.start.
    let lo = 0;
    let hi = this.#intervals.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys((this.#intervals[mid] as KeyInterval).start, ivl.start) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return false;
    const candidate = this.#intervals[found] as KeyInterval;
    // Intervals do not touch, so ivl must fit inside this single one.
    return compareEnds(ivl.end, candidate.end) <= 0 && compareEnds(ivl.start, candidate.end) < 0;
  }
}

/** UserPermissions is one user's merged key permissions, split by kind. */
export interface UserPermissions {
  readonly read: IntervalSet;
  readonly write: IntervalSet;
}

/**
 * mergePermissions merges the permissions of every role a user has into two interval sets. READWRITE
 * counts for both; a permission only adds keys, never removes them.
 */
export function mergePermissions(permissions: Iterable<Permission>): UserPermissions {
  const read: KeyInterval[] = [];
  const write: KeyInterval[] = [];
  for (const perm of permissions) {
    const ivl = permissionInterval(perm.key, perm.rangeEnd);
    switch (perm.permType) {
      case Permission_Type.READ:
        read.push(ivl);
        break;
      case Permission_Type.WRITE:
        write.push(ivl);
        break;
      case Permission_Type.READWRITE:
        read.push(ivl);
        write.push(ivl);
        break;
      default:
        // An unknown type grants nothing (an old member can meet a newer enum value).
        break;
    }
  }
  return { read: new IntervalSet(read), write: new IntervalSet(write) };
}

/**
 * RangePermCache keeps each user's merged permissions, built on first use. The auth store drops a user's
 * entry when the user changes and every entry when a role changes, so a check never sees stale rights.
 */
export class RangePermCache {
  readonly #byUser = new Map<string, UserPermissions>();
  readonly #build: (user: string) => UserPermissions | undefined;

  /** `build` computes a user's merged permissions from the current state; undefined if no such user. */
  constructor(build: (user: string) => UserPermissions | undefined) {
    this.#build = build;
  }

  /** get returns the user's merged permissions, or undefined when the user does not exist. */
  get(user: string): UserPermissions | undefined {
    const cached = this.#byUser.get(user);
    if (cached !== undefined) return cached;
    const built = this.#build(user);
    if (built !== undefined) this.#byUser.set(user, built);
    return built;
  }

  /** invalidateUser forgets one user's entry. */
  invalidateUser(user: string): void {
    this.#byUser.delete(user);
  }

  /** clear forgets every entry. */
  clear(): void {
    this.#byUser.clear();
  }

  /** size is the number of cached users. */
  get size(): number {
    return this.#byUser.size;
  }
}
