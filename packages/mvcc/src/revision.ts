import { assert } from "./assert.js";

/**
 * Revision identifies one change: `main` is the store revision of the write txn (it grows by one per write
 * txn), `sub` orders the changes inside that txn (0, 1, 2, ...). Both are safe integers; they become bigint
 * only at the protocol edge.
 */
export interface Revision {
  readonly main: number;
  readonly sub: number;
}

/** REVISION_BYTES is the length of an encoded revision key: 8 bytes main, '_', 8 bytes sub (big-endian). */
export const REVISION_BYTES = 17;

/** TOMBSTONE_MARKER is the byte appended to a revision key whose record is a deletion. */
export const TOMBSTONE_MARKER = 0x74; // 't'

const SEPARATOR = 0x5f; // '_'
const TWO_32 = 2 ** 32;

/** compareRevisions orders revisions by main, then sub. */
export function compareRevisions(a: Revision, b: Revision): number {
  if (a.main !== b.main) return a.main < b.main ? -1 : 1;
  if (a.sub !== b.sub) return a.sub < b.sub ? -1 : 1;
  return 0;
}

function writeUint64(out: Uint8Array, offset: number, value: number): void {
  assert(
    Number.isSafeInteger(value) && value >= 0,
    `revision component ${value} is not a safe non-negative integer`,
  );
  const high = Math.floor(value / TWO_32);
  const low = value >>> 0;
  out[offset] = high >>> 24;
  out[offset + 1] = (high >>> 16) & 0xff;
  out[offset + 2] = (high >>> 8) & 0xff;
  out[offset + 3] = high & 0xff;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = (low >>> 16) & 0xff;
  out[offset + 6] = (low >>> 8) & 0xff;
  out[offset + 7] = low & 0xff;
}

function readUint64(bytes: Uint8Array, offset: number): number {
  const high =
    ((bytes[offset] ?? 0) * 2 ** 24 +
      ((bytes[offset + 1] ?? 0) << 16) +
      ((bytes[offset + 2] ?? 0) << 8) +
      (bytes[offset + 3] ?? 0)) >>>
    0;
  const low =
    ((bytes[offset + 4] ?? 0) * 2 ** 24 +
      ((bytes[offset + 5] ?? 0) << 16) +
      ((bytes[offset + 6] ?? 0) << 8) +
      (bytes[offset + 7] ?? 0)) >>>
    0;
  const value = high * TWO_32 + low;
  assert(Number.isSafeInteger(value), "stored revision exceeds the safe integer range");
  return value;
}

/**
 * encodeRevisionKey gives the storage key of a revision: keys sort in revision order, and a deletion carries a
 * trailing tombstone marker (like etcd's backend keys).
 */
export function encodeRevisionKey(revision: Revision, tombstone = false): Uint8Array {
  const out = new Uint8Array(tombstone ? REVISION_BYTES + 1 : REVISION_BYTES);
  writeUint64(out, 0, revision.main);
  out[8] = SEPARATOR;
  writeUint64(out, 9, revision.sub);
  if (tombstone) out[REVISION_BYTES] = TOMBSTONE_MARKER;
  return out;
}

/** DecodedRevisionKey is a storage key read back: the revision and whether it marks a deletion. */
export interface DecodedRevisionKey {
  readonly revision: Revision;
  readonly tombstone: boolean;
}

/** isRevisionKey tells whether a storage key has the shape of a revision key. */
export function isRevisionKey(key: Uint8Array): boolean {
  if (key.length === REVISION_BYTES) return key[8] === SEPARATOR;
  return (
    key.length === REVISION_BYTES + 1 && key[8] === SEPARATOR && key[REVISION_BYTES] === TOMBSTONE_MARKER
  );
}

/** decodeRevisionKey reads a storage key written by encodeRevisionKey. */
export function decodeRevisionKey(key: Uint8Array): DecodedRevisionKey {
  assert(isRevisionKey(key), `malformed revision key of ${key.length} bytes`);
  return {
    revision: { main: readUint64(key, 0), sub: readUint64(key, 9) },
    tombstone: key.length === REVISION_BYTES + 1,
  };
}

/** revisionLowerBound is the smallest storage key at or above every key of revisions with this main. */
export function revisionLowerBound(main: number): Uint8Array {
  return encodeRevisionKey({ main, sub: 0 });
}
