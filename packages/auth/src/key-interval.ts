/**
 * KeyInterval is a half-open interval [start, end) of keys in byte order; `end === null` means "no upper
 * bound". A single key k is the interval [k, k + "\0"): no key sorts strictly between k and k + "\0".
 */
export interface KeyInterval {
  readonly start: Uint8Array;
  readonly end: Uint8Array | null;
}

const zeroByte = new Uint8Array([0]);

/** compareKeys orders two keys bytewise, like Go's bytes.Compare and LevelDB's default comparator. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** keysEqual tells whether two keys have the same bytes. */
export function keysEqual(a: Uint8Array, b: Uint8Array): boolean {
  return compareKeys(a, b) === 0;
}

/** isOpenEnded tells whether `rangeEnd` is etcd's "\0" marker for "every key from `key` on". */
export function isOpenEnded(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** pointInterval is the interval holding exactly `key`. */
export function pointInterval(key: Uint8Array): KeyInterval {
  const end = new Uint8Array(key.length + 1);
  end.set(key);
  return { start: key, end };
}

/** compareEnds orders interval ends, with `null` (unbounded) after every key. */
export function compareEnds(a: Uint8Array | null, b: Uint8Array | null): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return compareKeys(a, b);
}

/**
 * permissionInterval is the set of keys a permission (key, rangeEnd) grants: one key when rangeEnd is empty,
 * every key from `key` on when rangeEnd is "\0", else [key, rangeEnd). Call it only on a permission that
 * {@link isValidPermissionRange} accepted.
 */
export function permissionInterval(key: Uint8Array, rangeEnd: Uint8Array): KeyInterval {
  if (rangeEnd.length === 0) return pointInterval(key);
  if (isOpenEnded(rangeEnd)) return { start: key, end: null };
  return { start: key, end: rangeEnd };
}

/**
 * isValidPermissionRange is etcd's rule for a grantable permission: a non-empty key, and either no range
 * end (one key), the open-ended marker "\0", or a range end strictly after the key.
 */
export function isValidPermissionRange(key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (key.length === 0) return false;
  if (rangeEnd.length === 0 || isOpenEnded(rangeEnd)) return true;
  return compareKeys(key, rangeEnd) < 0;
}

/**
 * requestInterval is the set of keys a request (key, rangeEnd) touches, as etcd's Range, DeleteRange,
 * Watch and Compare read it: one key when rangeEnd is empty, every key from `key` on when rangeEnd is "\0",
 * else [key, rangeEnd).
 *
 * Two cases are decided conservatively, so that no request shape can reach around a permission:
 * - A range whose end is not after its start is empty; it is checked as the single key `key`.
 * - A range starting at the empty key starts at "\0" instead: "" is not a valid etcd key, so both read the
 *   same stored keys, and clients send "\0" for "from the first key" (clientv3 does).
 */
export function requestInterval(key: Uint8Array, rangeEnd: Uint8Array): KeyInterval {
  if (rangeEnd.length === 0) return pointInterval(key);
  const start = key.length === 0 ? zeroByte : key;
  if (isOpenEnded(rangeEnd)) return { start, end: null };
  if (compareKeys(start, rangeEnd) >= 0) return pointInterval(key);
  return { start, end: rangeEnd };
}
