/**
 * LeaseBatch is the write half of the lessor's sublevel: the caller's pending batch for the raft entry being
 * applied, scoped to the lease sublevel. The lessor only adds operations to it; the server writes it,
 * atomically with mvcc, auth and the consistent index. The lessor never writes to the backend by itself.
 */
export interface LeaseBatch {
  put(key: Uint8Array, value: Uint8Array): void;
  del(key: Uint8Array): void;
}

/**
 * LeaseReader is the read half of the lessor's sublevel, used only on recovery: every key/value pair in
 * key order.
 */
export interface LeaseReader {
  entries(): AsyncIterable<readonly [Uint8Array, Uint8Array]>;
}
