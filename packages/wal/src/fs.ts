/**
 * The small file-system surface the WAL and the snapshotter use. Everything goes through it so tests can
 * swap in {@link MemWalFs}, which crashes, tears writes, flips bits and fails on demand.
 */

/** WalFileHandle is one open file. Positions and sizes are byte offsets. */
export interface WalFileHandle {
  /** read returns up to `length` bytes at `position` (fewer at the end of the file). */
  read(position: number, length: number): Promise<Uint8Array>;
  /** pwrite writes all of `data` at `position`, or throws (a short write is an error, never silent). */
  pwrite(data: Uint8Array, position: number): Promise<void>;
  /** fdatasync makes the file's data (and its size) durable. */
  fdatasync(): Promise<void>;
  /** truncate sets the file's size, cutting or extending it with zeros. */
  truncate(sizeBytes: number): Promise<void>;
  /** size returns the file's current size. */
  size(): Promise<number>;
  /** close releases the handle. */
  close(): Promise<void>;
}

/** WalFs opens files and changes directories. A name change is durable only after `fsyncDir`. */
export interface WalFs {
  /**
   * open opens `path` for reading and writing. With `create`, the file must not exist yet (it is created
   * empty); without, it must exist.
   */
  open(path: string, options?: { create?: boolean }): Promise<WalFileHandle>;
  /** readdir lists the names (not paths) in `dir`; a missing directory lists as empty. */
  readdir(dir: string): Promise<string[]>;
  /** mkdir creates `dir` and its missing parents. */
  mkdir(dir: string): Promise<void>;
  /** rename moves `from` to `to`, replacing `to`. */
  rename(from: string, to: string): Promise<void>;
  /** unlink removes a file. */
  unlink(path: string): Promise<void>;
  /** fsyncDir makes the creations, renames and removals of names in `dir` durable. */
  fsyncDir(dir: string): Promise<void>;
}

/**
 * zeroTails records, for a buffer a {@link WalFileHandle} read returned, the offset from which the reader
 * saw only zero bytes. It is a hint for recovery (scanning tens of MB of pre-allocated zeros costs a page
 * fault per 4 KiB); a handle that does not record one is scanned in full.
 */
const zeroTails = new WeakMap<Uint8Array, number>();

/** noteZeroTail records that `bytes` holds only zeros from `offset` on (for implementations of read). */
export function noteZeroTail(bytes: Uint8Array, offset: number): void {
  zeroTails.set(bytes, offset);
}

/** zeroTailOf is the offset from which `bytes` is known to hold only zeros (its length when unknown). */
export function zeroTailOf(bytes: Uint8Array): number {
  return zeroTails.get(bytes) ?? bytes.length;
}

/** ZERO_BLOCK_BYTES is the block size in which pre-allocated (zero) space is recognised, one memcmp each. */
export const ZERO_BLOCK_BYTES = 64 * 1024;
const ZERO_BLOCK = new Uint8Array(ZERO_BLOCK_BYTES);

/** isZeroBlock tells whether `bytes` (at most ZERO_BLOCK_BYTES long) holds only zeros. */
export function isZeroBlock(bytes: Uint8Array): boolean {
  return Buffer.compare(bytes, ZERO_BLOCK.subarray(0, bytes.length)) === 0;
}
