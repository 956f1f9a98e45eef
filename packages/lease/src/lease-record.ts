import { LeaseCorruptError } from "./errors.js";
import type { LeaseId } from "./lease-id.js";
import { NO_LEASE } from "./lease-id.js";

/**
 * LeaseRecord is what the backend keeps for a lease: enough to rebuild it after a restart. Attached keys
 * are not stored here: mvcc knows each key's lease and the server re-attaches them on recovery.
 */
export interface LeaseRecord {
  readonly id: LeaseId;
  /** ttlSeconds is the granted TTL, after raising it to the minimum. */
  readonly ttlSeconds: number;
  /** remainingTtlSeconds is the last checkpointed remaining TTL; 0 when never checkpointed or renewed since. */
  readonly remainingTtlSeconds: number;
}

const RECORD_VERSION = 1;
const KEY_BYTES = 8;
const VALUE_BYTES = 1 + 8 + 8;

/** encodeLeaseKey is the 8-byte big-endian form of the id's 64-bit two's complement. */
export function encodeLeaseKey(id: LeaseId): Uint8Array {
  const key = new Uint8Array(KEY_BYTES);
  new DataView(key.buffer).setBigInt64(0, id);
  return key;
}

/** encodeLeaseValue lays a record out as: version (u8), ttlSeconds (u64 BE), remainingTtlSeconds (u64 BE). */
export function encodeLeaseValue(record: LeaseRecord): Uint8Array {
  const value = new Uint8Array(VALUE_BYTES);
  const view = new DataView(value.buffer);
  view.setUint8(0, RECORD_VERSION);
  view.setBigUint64(1, BigInt(record.ttlSeconds));
  view.setBigUint64(9, BigInt(record.remainingTtlSeconds));
  return value;
}

/** decodeLeaseRecord reads a key/value pair back, throwing {@link LeaseCorruptError} on anything malformed. */
export function decodeLeaseRecord(key: Uint8Array, value: Uint8Array): LeaseRecord {
  if (key.byteLength !== KEY_BYTES) {
    throw new LeaseCorruptError(`lease: record key has ${key.byteLength} bytes, want ${KEY_BYTES}`);
  }
  const id = new DataView(key.buffer, key.byteOffset, key.byteLength).getBigInt64(0);
  if (id === NO_LEASE) {
    throw new LeaseCorruptError("lease: record for lease id 0");
  }
  if (value.byteLength !== VALUE_BYTES) {
    throw new LeaseCorruptError(
      `lease: record of lease ${id} has ${value.byteLength} bytes, want ${VALUE_BYTES}`,
    );
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const version = view.getUint8(0);
  if (version !== RECORD_VERSION) {
    throw new LeaseCorruptError(
      `lease: record of lease ${id} has version ${version}, want ${RECORD_VERSION}`,
    );
  }
  const ttl = view.getBigUint64(1);
  const remaining = view.getBigUint64(9);
  if (ttl > BigInt(Number.MAX_SAFE_INTEGER) || remaining > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LeaseCorruptError(`lease: record of lease ${id} has an impossible TTL`);
  }
  return { id: id as LeaseId, ttlSeconds: Number(ttl), remainingTtlSeconds: Number(remaining) };
}
