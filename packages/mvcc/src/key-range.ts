/**
 * KeyRange is the set of keys a request addresses, with keys as binary (latin1) strings: one key when `end`
 * is undefined, `[start, end)` otherwise, and every key at or above `start` when `end` is null (etcd's
 * range_end "\0").
 */
export interface KeyRange {
  readonly start: string;
  readonly end: string | null | undefined;
}

/** keyToString turns key bytes into a binary string whose order is the byte order of the keys. */
export function keyToString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

/** keyFromString turns a binary string made by keyToString back into bytes. */
export function keyFromString(key: string): Uint8Array {
  const buffer = Buffer.from(key, "latin1");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** toKeyRange applies etcd's key/range_end conventions: empty range_end = one key, "\0" = all keys >= key. */
export function toKeyRange(key: Uint8Array, rangeEnd: Uint8Array): KeyRange {
  const start = keyToString(key);
  if (rangeEnd.length === 0) return { start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: null };
  return { start, end: keyToString(rangeEnd) };
}

/** rangeContains tells whether the binary-string key lies in the range. */
export function rangeContains(range: KeyRange, key: string): boolean {
  if (range.end === undefined) return key === range.start;
  if (key < range.start) return false;
  return range.end === null || key < range.end;
}

/** prefixEnd gives the range_end that selects every key with the given prefix (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end[i] ?? 0;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}
