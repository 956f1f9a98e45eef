/**
 * Keys and values travel as bytes; the API accepts strings (encoded as UTF-8) or bytes wherever a key or value
 * is expected.
 */

/** Bytes is a key or value as the caller gives it: a UTF-8 string or raw bytes. */
export type Bytes = string | Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** toBytes encodes a string as UTF-8 and passes bytes through unchanged. */
export function toBytes(value: Bytes): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/** bytesToString decodes UTF-8 bytes (invalid sequences become U+FFFD). */
export function bytesToString(value: Uint8Array): string {
  return decoder.decode(value);
}

/** ALL_KEYS_END is the range end "\0" that, with key "\0", selects every key. */
export const ALL_KEYS_END: Uint8Array = new Uint8Array([0]);

/**
 * prefixEnd is the smallest key greater than every key that starts with `prefix`: the last byte below 0xff is
 * incremented and the rest dropped. A prefix of only 0xff bytes (or an empty one) has no such key, so the
 * range runs to the end of the keyspace ("\0"), as etcd's clientv3 does.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number;
    if (byte < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = byte + 1;
      return end;
    }
  }
  return ALL_KEYS_END;
}

/** compareBytes orders byte strings as etcd orders keys (unsigned, lexicographic). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** bytesEqual is true when both byte strings hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}
