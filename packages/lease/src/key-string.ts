/**
 * keyString turns key bytes into a string usable as a Map key. Latin-1 maps each byte to one UTF-16 code
 * unit, so the mapping is lossless and strings compare in the same order as the bytes.
 */
export function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

/** keyBytes is the inverse of {@link keyString}; it returns a fresh copy. */
export function keyBytes(key: string): Uint8Array {
  return new Uint8Array(Buffer.from(key, "latin1"));
}
