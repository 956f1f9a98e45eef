import { randomBytes } from "node:crypto";

/**
 * encodeKey writes `n` as a zig-zag varint (Go's `binary.PutVarint`, which etcd's benchmark uses) at the start
 * of a zeroed key of `keySize` bytes, so keys for 0..keySpaceSize-1 are distinct fixed-size byte strings.
 * A key too small for the varint is truncated, as etcd's is.
 */
export function encodeKey(n: number, keySize: number): Uint8Array {
  const key = new Uint8Array(keySize);
  let zigzag = n >= 0 ? n * 2 : -n * 2 - 1;
  let i = 0;
  while (zigzag >= 0x80 && i < keySize) {
    key[i++] = (zigzag % 0x80) | 0x80;
    zigzag = Math.floor(zigzag / 0x80);
  }
  if (i < keySize) key[i] = zigzag;
  return key;
}

/**
 * KeyPicker chooses the key number of the i-th request: `i % keySpaceSize` with `--sequential-keys`, else
 * uniformly at random in [0, keySpaceSize).
 */
export function keyNumber(i: number, keySpaceSize: number, sequential: boolean): number {
  return sequential ? i % keySpaceSize : Math.floor(Math.random() * keySpaceSize);
}

/** randomValue returns `size` random bytes (etcd's benchmark uses one random value for every request). */
export function randomValue(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size));
}
