import { createHash } from "node:crypto";
import fs from "node:fs";

// Reads the bbolt format that bolt-file.ts writes (see the layout comment there): a file of fixed-size pages,
// two meta pages (0 and 1) of which the valid one with the higher txid is current, and B+trees of branch and
// leaf pages under the root bucket. Nested bucket values are a 16-byte header (root pgid, sequence); root 0
// means an inline bucket whose one leaf page follows the header. A page of `overflow` > 0 spans that many
// extra pages, of which only the first has a header.
//
// A snapshot file is untrusted input: every offset read from it is bounds-checked, and anything that does
// not fit the format raises SnapshotFileError (never an assertion, which would mean a bug of ours).

const PAGE_HEADER_BYTES = 16;
const ELEMENT_BYTES = 16;
const BUCKET_HEADER_BYTES = 16;
const META_CHECKSUMMED_BYTES = 56;

const BRANCH_PAGE_FLAG = 0x01;
const LEAF_PAGE_FLAG = 0x02;
const META_PAGE_FLAG = 0x04;
const BUCKET_LEAF_FLAG = 0x01;

const MAGIC = 0xed0cdaed;
const VERSION = 2;
const MIN_PAGE_BYTES = 512;
const MAX_PAGE_BYTES = 1 << 16;
/** DEFAULT_PAGE_BYTES is where meta page 1 is looked for when meta page 0 is unreadable. */
const DEFAULT_PAGE_BYTES = 4096;
/** MAX_TREE_DEPTH bounds the descent through branch pages and nested buckets (a cycle in a bad file). */
const MAX_TREE_DEPTH = 64;

/** SHA256_BYTES is the size of the integrity trailer `etcdctl snapshot save` appends. */
export const SHA256_BYTES = 32;
/** HASH_ALIGNMENT: a file whose size is `SHA256_BYTES` past a multiple of this carries the trailer. */
const HASH_ALIGNMENT = 512;

/**
 * SnapshotFileError reports a snapshot file that cannot be restored: a missing or wrong integrity hash, or
 * bytes that are not a bbolt database. Its message names what is wrong.
 */
export class SnapshotFileError extends Error {
  override readonly name = "SnapshotFileError";
}

/**
 * checkSnapshotHash returns the bbolt database inside a file saved by `etcdctl snapshot save` (from etcd or
 * etcd-ts): the file less its SHA-256 trailer, after checking the trailer matches — unless
 * `skipHashCheck`, as etcdutl's `--skip-hash-check` (for a db file copied from a member's data dir, which has
 * no trailer). A file with no trailer is refused unless `skipHashCheck`.
 */
export function checkSnapshotHash(file: Uint8Array, skipHashCheck: boolean): Uint8Array {
  const hasHash = file.length >= SHA256_BYTES && file.length % HASH_ALIGNMENT === SHA256_BYTES;
  if (!hasHash) {
    if (!skipHashCheck) throw new SnapshotFileError(MISSING_HASH);
    return file;
  }
  const db = file.subarray(0, file.length - SHA256_BYTES);
  if (!skipHashCheck) {
    compareHash(
      Buffer.from(file.subarray(file.length - SHA256_BYTES)),
      createHash("sha256").update(db).digest(),
    );
  }
  return db;
}

/**
 * BoltSource is where a BoltDb reads its bytes from: the first `length` bytes of a file or of a buffer. A
 * file is read page by page when the tree reaches it, so a database larger than memory (or than the 2 GiB
 * `fs.readFile` accepts) can be read.
 */
export interface BoltSource {
  readonly length: number;
  /** read returns `length` bytes at `offset` (both within the source). */
  read(offset: number, length: number): Uint8Array;
}

/** bufferSource reads from bytes in memory (views into them, no copies). */
export function bufferSource(bytes: Uint8Array): BoltSource {
  return { length: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** fileSource reads the first `length` bytes of an open file with positional reads. */
export function fileSource(fd: number, length: number): BoltSource {
  return {
    length,
    read(offset, size) {
      const out = Buffer.allocUnsafe(size);
      let done = 0;
      while (done < size) {
        const n = fs.readSync(fd, out, done, size - done, offset + done);
        if (n === 0) throw new SnapshotFileError(`bolt: file ends before byte ${offset + size}`);
        done += n;
      }
      return out;
    },
  };
}

/** HASH_CHUNK_BYTES is how much of a file is hashed per read. */
const HASH_CHUNK_BYTES = 1 << 20;

/**
 * checkSnapshotFileHash is {@link checkSnapshotHash} for an open file, hashed in chunks: it returns how many
 * leading bytes of the file are the bbolt database.
 */
export function checkSnapshotFileHash(fd: number, skipHashCheck: boolean): number {
  const size = fs.fstatSync(fd).size;
  const hasHash = size >= SHA256_BYTES && size % HASH_ALIGNMENT === SHA256_BYTES;
  if (!hasHash) {
    if (!skipHashCheck) throw new SnapshotFileError(MISSING_HASH);
    return size;
  }
  const dbBytes = size - SHA256_BYTES;
  if (!skipHashCheck) {
    const source = fileSource(fd, size);
    const hash = createHash("sha256");
    for (let offset = 0; offset < dbBytes; offset += HASH_CHUNK_BYTES) {
      hash.update(source.read(offset, Math.min(HASH_CHUNK_BYTES, dbBytes - offset)));
    }
    compareHash(Buffer.from(source.read(dbBytes, SHA256_BYTES)), hash.digest());
  }
  return dbBytes;
}

function compareHash(want: Buffer, got: Buffer): void {
  if (!got.equals(want)) {
    throw new SnapshotFileError(
      `snapshot file is corrupted: expected sha256 ${want.toString("hex")}, got ${got.toString("hex")}`,
    );
  }
}

const MISSING_HASH =
  "snapshot missing hash but --skip-hash-check=false (a db file copied from a data dir needs --skip-hash-check)";

/** fnv1a64 is the 64-bit FNV-1a hash bbolt checksums its meta pages with. */
function fnv1a64(bytes: Uint8Array): bigint {
  const mask = 0xffff_ffff_ffff_ffffn;
  let hash = 0xcbf2_9ce4_8422_2325n;
  for (const b of bytes) {
    hash ^= BigInt(b);
    hash = (hash * 0x100_0000_01b3n) & mask;
  }
  return hash;
}

/** BoltMeta is what the current meta page records. */
export interface BoltMeta {
  pageSize: number;
  /** rootPgid is the page of the root bucket's tree. */
  rootPgid: number;
  /** highWaterPgid is one past the last page in use. */
  highWaterPgid: number;
  txid: number;
}

/** u64 reads a little-endian u64 that must fit a safe integer (page ids and txids in any sane file). */
function u64(view: DataView, offset: number, what: string): number {
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new SnapshotFileError(`bolt: ${what} ${value} too large`);
  return Number(value);
}

/** A page (with its overflow pages) or an inline bucket's page: its bytes from the header on. */
interface PageView {
  bytes: Uint8Array;
  view: DataView;
  flags: number;
  count: number;
}

/**
 * BoltBucketView reads one bucket of a bbolt database: its plain key/value pairs and its nested buckets, in
 * key order. Keys and values are views into the file's bytes (copy them to keep them past the file).
 */
export class BoltBucketView {
  readonly #db: BoltDb;
  readonly #root: number;
  readonly #inline: PageView | undefined;
  readonly #depth: number;

  /** @internal Built by BoltDb and by parent buckets. */
  constructor(db: BoltDb, root: number, inline: PageView | undefined, depth: number) {
    this.#db = db;
    this.#root = root;
    this.#inline = inline;
    this.#depth = depth;
  }

  /** elements yields every leaf element of the bucket in key order: key, value and its flags. */
  *#elements(): Generator<{ key: Uint8Array; value: Uint8Array; flags: number }> {
    if (this.#inline !== undefined) {
      yield* leafElements(this.#inline);
      return;
    }
    yield* this.#walk(this.#root, this.#depth);
  }

  *#walk(pgid: number, depth: number): Generator<{ key: Uint8Array; value: Uint8Array; flags: number }> {
    if (depth > MAX_TREE_DEPTH) throw new SnapshotFileError("bolt: tree too deep (a cycle of pages?)");
    const page = this.#db.page(pgid);
    if (page.flags & LEAF_PAGE_FLAG) {
      yield* leafElements(page);
      return;
    }
    if (!(page.flags & BRANCH_PAGE_FLAG)) {
      throw new SnapshotFileError(`bolt: page ${pgid} is neither a branch nor a leaf (flags ${page.flags})`);
    }
    for (let i = 0; i < page.count; i++) {
      const at = PAGE_HEADER_BYTES + ELEMENT_BYTES * i;
      const child = u64(page.view, at + 8, "child page id");
      yield* this.#walk(child, depth + 1);
    }
  }

  /** entries yields the bucket's key/value pairs (not its nested buckets) in key order. */
  *entries(): Generator<[key: Uint8Array, value: Uint8Array]> {
    for (const e of this.#elements()) if (!(e.flags & BUCKET_LEAF_FLAG)) yield [e.key, e.value];
  }

  /** buckets yields the bucket's nested buckets in name order. */
  *buckets(): Generator<[name: Uint8Array, bucket: BoltBucketView]> {
    for (const e of this.#elements()) {
      if (e.flags & BUCKET_LEAF_FLAG) yield [e.key, this.#db.bucketFromValue(e.value, this.#depth + 1)];
    }
  }

  /** bucket returns the nested bucket called `name`, or undefined. */
  bucket(name: string | Uint8Array): BoltBucketView | undefined {
    const want = Buffer.from(typeof name === "string" ? new TextEncoder().encode(name) : name);
    for (const [key, bucket] of this.buckets()) if (want.equals(key)) return bucket;
    return undefined;
  }

  /** count is the number of key/value pairs in this bucket and, recursively, in its nested buckets. */
  count(): number {
    let n = 0;
    for (const e of this.#elements()) {
      if (e.flags & BUCKET_LEAF_FLAG) n += this.#db.bucketFromValue(e.value, this.#depth + 1).count();
      else n++;
    }
    return n;
  }
}

/** leafElements decodes the elements of a leaf page (or inline bucket page), bounds-checked. */
function* leafElements(page: PageView): Generator<{ key: Uint8Array; value: Uint8Array; flags: number }> {
  if (!(page.flags & LEAF_PAGE_FLAG)) throw new SnapshotFileError("bolt: expected a leaf page");
  if (PAGE_HEADER_BYTES + ELEMENT_BYTES * page.count > page.bytes.length) {
    throw new SnapshotFileError("bolt: leaf page elements overrun the page");
  }
  for (let i = 0; i < page.count; i++) {
    const at = PAGE_HEADER_BYTES + ELEMENT_BYTES * i;
    const flags = page.view.getUint32(at, true);
    const pos = page.view.getUint32(at + 4, true);
    const keyBytes = page.view.getUint32(at + 8, true);
    const valueBytes = page.view.getUint32(at + 12, true);
    const keyStart = at + pos;
    const end = keyStart + keyBytes + valueBytes;
    if (end > page.bytes.length) throw new SnapshotFileError("bolt: leaf element overruns its page");
    yield {
      flags,
      key: page.bytes.subarray(keyStart, keyStart + keyBytes),
      value: page.bytes.subarray(keyStart + keyBytes, end),
    };
  }
}

/**
 * BoltDb is a read-only bbolt database (a snapshot file less its hash trailer), in memory or read from a
 * file page by page. It checks the meta pages when opened; pages are decoded as the tree reaches them.
 */
export class BoltDb {
  readonly meta: BoltMeta;
  readonly #source: BoltSource;

  private constructor(source: BoltSource, meta: BoltMeta) {
    this.#source = source;
    this.meta = meta;
  }

  /**
   * open checks the meta pages of a bbolt file (magic, version, FNV-1a checksum) and uses the valid one with
   * the higher txid, as bbolt does. Throws SnapshotFileError when neither is valid.
   */
  static open(bytesOrSource: Uint8Array | BoltSource): BoltDb {
    const source = bytesOrSource instanceof Uint8Array ? bufferSource(bytesOrSource) : bytesOrSource;
    const metas: BoltMeta[] = [];
    const problems: string[] = [];
    const first = readMeta(source, 0, undefined);
    if (typeof first === "string") problems.push(first);
    else metas.push(first);
    const pageSize = typeof first === "string" ? DEFAULT_PAGE_BYTES : first.pageSize;
    const second = readMeta(source, pageSize, pageSize);
    if (typeof second === "string") problems.push(second);
    else metas.push(second);
    const meta = metas.sort((a, b) => b.txid - a.txid)[0];
    if (meta === undefined) {
      throw new SnapshotFileError(`not a bbolt database (${problems.join("; ")})`);
    }
    if (meta.highWaterPgid * meta.pageSize > source.length) {
      throw new SnapshotFileError(
        `bolt: file is truncated: ${source.length} bytes, the meta page says ${meta.highWaterPgid} pages of ${meta.pageSize}`,
      );
    }
    return new BoltDb(source, meta);
  }

  /** root is the root bucket, whose nested buckets are the database's top-level buckets. */
  root(): BoltBucketView {
    return new BoltBucketView(this, this.meta.rootPgid, undefined, 0);
  }

  /** @internal page returns the page `pgid` (with its overflow pages), checked against the file's bounds. */
  page(pgid: number): PageView {
    const { pageSize, highWaterPgid } = this.meta;
    if (pgid < 2 || pgid >= highWaterPgid) {
      throw new SnapshotFileError(`bolt: page id ${pgid} out of range [2, ${highWaterPgid})`);
    }
    const offset = pgid * pageSize;
    const first = this.#source.read(offset, pageSize);
    const head = new DataView(first.buffer, first.byteOffset, first.byteLength);
    const id = u64(head, 0, "page id");
    if (id !== pgid) throw new SnapshotFileError(`bolt: page ${pgid} has id ${id}`);
    const flags = head.getUint16(8, true);
    const count = head.getUint16(10, true);
    const overflow = head.getUint32(12, true);
    const end = offset + (1 + overflow) * pageSize;
    if (pgid + 1 + overflow > highWaterPgid || end > this.#source.length) {
      throw new SnapshotFileError(`bolt: page ${pgid} with ${overflow} overflow pages runs past the file`);
    }
    const bytes = overflow === 0 ? first : this.#source.read(offset, end - offset);
    return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), flags, count };
  }

  /** @internal bucketFromValue opens a nested bucket from the value stored under its name. */
  bucketFromValue(value: Uint8Array, depth: number): BoltBucketView {
    if (value.length < BUCKET_HEADER_BYTES) throw new SnapshotFileError("bolt: bucket value too short");
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const root = u64(view, 0, "bucket root");
    if (root !== 0) return new BoltBucketView(this, root, undefined, depth);
    const bytes = value.subarray(BUCKET_HEADER_BYTES);
    if (bytes.length < PAGE_HEADER_BYTES) throw new SnapshotFileError("bolt: inline bucket too short");
    const pageView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new BoltBucketView(
      this,
      0,
      {
        bytes,
        view: pageView,
        flags: pageView.getUint16(8, true),
        count: pageView.getUint16(10, true),
      },
      depth,
    );
  }
}

/** readMeta decodes the meta page at `offset`, or says why it is not valid. */
function readMeta(source: BoltSource, offset: number, expectPageSize: number | undefined): BoltMeta | string {
  const metaBytes = PAGE_HEADER_BYTES + META_CHECKSUMMED_BYTES + 8;
  if (offset + metaBytes > source.length) return `meta page at ${offset} is missing`;
  const bytes = source.read(offset, metaBytes);
  const at = PAGE_HEADER_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!(view.getUint16(8, true) & META_PAGE_FLAG)) return `page at ${offset} is not a meta page`;
  if (view.getUint32(at, true) !== MAGIC) return `meta page at ${offset} has no bbolt magic`;
  if (view.getUint32(at + 4, true) !== VERSION) return `meta page at ${offset} has an unknown version`;
  const checksum = view.getBigUint64(at + META_CHECKSUMMED_BYTES, true);
  if (fnv1a64(bytes.subarray(at, at + META_CHECKSUMMED_BYTES)) !== checksum) {
    return `meta page at ${offset} has a bad checksum`;
  }
  const pageSize = view.getUint32(at + 8, true);
  if (pageSize < MIN_PAGE_BYTES || pageSize > MAX_PAGE_BYTES || pageSize % 8 !== 0) {
    return `meta page at ${offset} has page size ${pageSize}`;
  }
  if (expectPageSize !== undefined && pageSize !== expectPageSize) {
    return `meta page at ${offset} has page size ${pageSize}, the first says ${expectPageSize}`;
  }
  try {
    return {
      pageSize,
      rootPgid: u64(view, at + 16, "root page id"),
      highWaterPgid: u64(view, at + 40, "high-water page id"),
      txid: u64(view, at + 48, "txid"),
    };
  } catch (err) {
    return (err as Error).message;
  }
}
