import { assert } from "../assert.js";

// The bbolt on-disk format, as read by go.etcd.io/bbolt on a little-endian 64-bit host (amd64):
//
//   page header (16 bytes): id u64, flags u16, count u16, overflow u32 (extra pages that follow this one).
//   meta page body at offset 16: magic u32, version u32, pageSize u32, flags u32, root bucket header
//     (root pgid u64, sequence u64), freelist pgid u64, high-water pgid u64, txid u64, checksum u64, where the
//     checksum is FNV-1a 64 over the 56 bytes before it.
//   leaf element (16 bytes): flags u32, pos u32, ksize u32, vsize u32; branch element (16 bytes): pos u32,
//     ksize u32, child pgid u64. `pos` counts from the element itself to its key; the value follows the key.
//   bucket value: header (root pgid u64, sequence u64); root 0 means an inline bucket whose leaf page
//     (header with id 0, then elements and data) follows the header inside the value.
//   freelist page: `count` ids of u64 after the header (an empty freelist has count 0).

const PAGE_HEADER_BYTES = 16;
const ELEMENT_BYTES = 16;
const BUCKET_HEADER_BYTES = 16;
const META_CHECKSUMMED_BYTES = 56;

const BRANCH_PAGE_FLAG = 0x01;
const LEAF_PAGE_FLAG = 0x02;
const META_PAGE_FLAG = 0x04;
const FREELIST_PAGE_FLAG = 0x10;
const BUCKET_LEAF_FLAG = 0x01;

const MAGIC = 0xed0cdaed;
const VERSION = 2;
const META_PAGE_COUNT = 2;
const FREELIST_PGID = 2;
const FIRST_DATA_PGID = 3;

/** Bounds bbolt enforces on keys and that a page's u16 element count imposes. */
const MAX_KEY_BYTES = 32_768;
const MAX_VALUE_BYTES = 0x7fff_fffe;
const MAX_ELEMENTS_PER_PAGE = 0xffff;
const MIN_PAGE_BYTES = 1024;
const MAX_PAGE_BYTES = 1 << 16;

/** BoltBucket is one top-level bucket to write: its name and its key/value pairs, both sorted bytewise. */
export interface BoltBucket {
  name: Uint8Array;
  entries: Array<[key: Uint8Array, value: Uint8Array]>;
}

/** BoltFileOptions tunes the written file; both fields have bbolt-compatible defaults. */
export interface BoltFileOptions {
  /** pageSize is the page size in bytes (default 4096, the amd64 OS page size bbolt uses). */
  pageSize?: number;
  /** txid is the id of the newest transaction recorded in the metas (default 1); must be at least 1. */
  txid?: number;
}

/** One element of a leaf page: a key, its value and whether the value is a nested bucket. */
interface LeafElement {
  key: Uint8Array;
  value: Uint8Array;
  flags: number;
}

/** One element of a branch page: the first key of a child page and that page's id. */
interface BranchElement {
  key: Uint8Array;
  pgid: number;
}

/** compareBytes orders two byte strings bytewise (memcmp order, shorter first on a common prefix). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** assertStrictlySorted checks that keys are non-empty, within bbolt's bound, sorted and unique. */
function assertStrictlySorted(keys: Uint8Array[], what: string): void {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as Uint8Array;
    assert(
      key.length > 0 && key.length <= MAX_KEY_BYTES,
      `${what} ${i}: key length ${key.length} out of range`,
    );
    if (i > 0) {
      assert(compareBytes(keys[i - 1] as Uint8Array, key) < 0, `${what} ${i}: keys not strictly sorted`);
    }
  }
}

/** writeHeader writes a page header at `offset` of `view`. */
function writeHeader(
  view: DataView,
  offset: number,
  pgid: number,
  flags: number,
  count: number,
  overflow: number,
): void {
  assert(count <= MAX_ELEMENTS_PER_PAGE, `page element count ${count} exceeds u16`);
  view.setBigUint64(offset, BigInt(pgid), true);
  view.setUint16(offset + 8, flags, true);
  view.setUint16(offset + 10, count, true);
  view.setUint32(offset + 12, overflow, true);
}

/** leafElementBytes is the space one leaf element takes in a page: element, key and value. */
function leafElementBytes(e: LeafElement): number {
  return ELEMENT_BYTES + e.key.length + e.value.length;
}

/** branchElementBytes is the space one branch element takes in a page: element and key. */
function branchElementBytes(e: BranchElement): number {
  return ELEMENT_BYTES + e.key.length;
}

/**
 * encodeLeaf lays out a leaf page (header, elements, then each key followed by its value) into `size` bytes.
 * `size` is at least the content size; the tail stays zero.
 */
function encodeLeaf(elements: LeafElement[], pgid: number, size: number, overflow: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  writeHeader(view, 0, pgid, LEAF_PAGE_FLAG, elements.length, overflow);
  let data = PAGE_HEADER_BYTES + ELEMENT_BYTES * elements.length;
  elements.forEach((e, i) => {
    const at = PAGE_HEADER_BYTES + ELEMENT_BYTES * i;
    view.setUint32(at, e.flags, true);
    view.setUint32(at + 4, data - at, true);
    view.setUint32(at + 8, e.key.length, true);
    view.setUint32(at + 12, e.value.length, true);
    bytes.set(e.key, data);
    data += e.key.length;
    bytes.set(e.value, data);
    data += e.value.length;
  });
  assert(data <= size, "leaf content overran its page");
  return bytes;
}

/** encodeBranch lays out a branch page (header, elements, then the keys) into `size` bytes. */
function encodeBranch(elements: BranchElement[], pgid: number, size: number, overflow: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  writeHeader(view, 0, pgid, BRANCH_PAGE_FLAG, elements.length, overflow);
  let data = PAGE_HEADER_BYTES + ELEMENT_BYTES * elements.length;
  elements.forEach((e, i) => {
    const at = PAGE_HEADER_BYTES + ELEMENT_BYTES * i;
    view.setUint32(at, data - at, true);
    view.setUint32(at + 4, e.key.length, true);
    view.setBigUint64(at + 8, BigInt(e.pgid), true);
    bytes.set(e.key, data);
    data += e.key.length;
  });
  assert(data <= size, "branch content overran its page");
  return bytes;
}

/**
 * groupIntoPages splits sorted elements into consecutive runs that each fit one page when possible; an element
 * too big for a page on its own gets a run of its own (written with overflow pages).
 */
function groupIntoPages<T>(elements: T[], sizeOf: (e: T) => number, pageSize: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let currentBytes = PAGE_HEADER_BYTES;
  for (const e of elements) {
    const bytes = sizeOf(e);
    if (current.length > 0 && (currentBytes + bytes > pageSize || current.length === MAX_ELEMENTS_PER_PAGE)) {
      groups.push(current);
      current = [];
      currentBytes = PAGE_HEADER_BYTES;
    }
    current.push(e);
    currentBytes += bytes;
  }
  groups.push(current);
  return groups;
}

/** PageWriter hands out page ids in order and keeps each allocated page's bytes for the final file. */
class PageWriter {
  readonly pages: Uint8Array[] = [];
  /** nextPgid is the high-water mark: one past the last page allocated. */
  nextPgid = FIRST_DATA_PGID;

  constructor(readonly pageSize: number) {}

  /** pagesFor is how many consecutive pages hold `contentBytes` bytes. */
  pagesFor(contentBytes: number): number {
    return Math.max(1, Math.ceil(contentBytes / this.pageSize));
  }

  /** allocate reserves `count` consecutive pages and returns the first id. */
  allocate(count: number): number {
    const pgid = this.nextPgid;
    this.nextPgid += count;
    return pgid;
  }

  /** add appends the bytes of pages allocated in order; they must be whole pages. */
  add(bytes: Uint8Array): void {
    assert(bytes.length % this.pageSize === 0, "page bytes are not whole pages");
    this.pages.push(bytes);
  }

  /**
   * writeTree writes a B+tree of leaf pages (and branch pages above them when there is more than one leaf)
   * and returns the root page id.
   */
  writeTree(elements: LeafElement[]): number {
    let level: BranchElement[] = [];
    for (const group of groupIntoPages(elements, leafElementBytes, this.pageSize)) {
      const content = PAGE_HEADER_BYTES + group.reduce((n, e) => n + leafElementBytes(e), 0);
      const count = this.pagesFor(content);
      const pgid = this.allocate(count);
      this.add(encodeLeaf(group, pgid, count * this.pageSize, count - 1));
      level.push({ key: group[0]?.key ?? new Uint8Array(0), pgid });
    }
    while (level.length > 1) {
      const next: BranchElement[] = [];
      for (const group of groupIntoPages(level, branchElementBytes, this.pageSize)) {
        const content = PAGE_HEADER_BYTES + group.reduce((n, e) => n + branchElementBytes(e), 0);
        const count = this.pagesFor(content);
        const pgid = this.allocate(count);
        this.add(encodeBranch(group, pgid, count * this.pageSize, count - 1));
        const first = group[0];
        assert(first !== undefined, "empty branch group");
        next.push({ key: first.key, pgid });
      }
      assert(next.length < level.length, "branch level did not shrink");
      level = next;
    }
    const root = level[0];
    assert(root !== undefined, "tree has no root");
    return root.pgid;
  }

  /**
   * bucketValue returns the value stored under a bucket's name in its parent: an inline bucket when its
   * single leaf fits in a quarter page (bbolt's own threshold), otherwise a header pointing at a written tree.
   */
  bucketValue(elements: LeafElement[]): Uint8Array {
    const leafBytes = PAGE_HEADER_BYTES + elements.reduce((n, e) => n + leafElementBytes(e), 0);
    if (leafBytes <= this.pageSize / 4) {
      const value = new Uint8Array(BUCKET_HEADER_BYTES + leafBytes);
      // Header stays zero: root 0 (inline), sequence 0.
      value.set(encodeLeaf(elements, 0, leafBytes, 0), BUCKET_HEADER_BYTES);
      return value;
    }
    const root = this.writeTree(elements);
    const value = new Uint8Array(BUCKET_HEADER_BYTES);
    new DataView(value.buffer).setBigUint64(0, BigInt(root), true);
    return value;
  }
}

/** fnv1a64 is the 64-bit FNV-1a hash bbolt uses as the meta checksum. */
function fnv1a64(bytes: Uint8Array): bigint {
  const mask = 0xffff_ffff_ffff_ffffn;
  let hash = 0xcbf2_9ce4_8422_2325n;
  for (const b of bytes) {
    hash ^= BigInt(b);
    hash = (hash * 0x100_0000_01b3n) & mask;
  }
  return hash;
}

/** encodeMeta writes one meta page at `pgid` recording the root bucket page, the freelist and the txid. */
function encodeMeta(
  pgid: number,
  pageSize: number,
  rootPgid: number,
  highWaterPgid: number,
  txid: number,
): Uint8Array {
  const bytes = new Uint8Array(pageSize);
  const view = new DataView(bytes.buffer);
  writeHeader(view, 0, pgid, META_PAGE_FLAG, 0, 0);
  const m = PAGE_HEADER_BYTES;
  view.setUint32(m, MAGIC, true);
  view.setUint32(m + 4, VERSION, true);
  view.setUint32(m + 8, pageSize, true);
  view.setUint32(m + 12, 0, true);
  view.setBigUint64(m + 16, BigInt(rootPgid), true);
  view.setBigUint64(m + 24, 0n, true);
  view.setBigUint64(m + 32, BigInt(FREELIST_PGID), true);
  view.setBigUint64(m + 40, BigInt(highWaterPgid), true);
  view.setBigUint64(m + 48, BigInt(txid), true);
  view.setBigUint64(m + 56, fnv1a64(bytes.subarray(m, m + META_CHECKSUMMED_BYTES)), true);
  return bytes;
}

/**
 * writeBoltFile returns the bytes of a bbolt database file (the format of etcd's `member/snap/db` and of
 * `etcdctl snapshot save`) holding `buckets` as top-level buckets. Bucket names and each bucket's keys must be
 * sorted bytewise and unique (asserted). Page 0 and 1 are both valid metas (the one at `txid % 2` records
 * `txid`, the other `txid - 1`), page 2 is an empty freelist, and every later page is reachable from the root
 * bucket, so bbolt's `tx.Check()` finds nothing to report. Small buckets are written inline like bbolt does;
 * large ones as leaf pages under branch pages, with overflow pages for values larger than a page.
 */
export function writeBoltFile(buckets: BoltBucket[], options: BoltFileOptions = {}): Uint8Array {
  const pageSize = options.pageSize ?? 4096;
  const txid = options.txid ?? 1;
  assert(
    Number.isInteger(pageSize) &&
      pageSize >= MIN_PAGE_BYTES &&
      pageSize <= MAX_PAGE_BYTES &&
      pageSize % 8 === 0,
    `page size ${pageSize} out of range`,
  );
  assert(Number.isSafeInteger(txid) && txid >= 1, `txid ${txid} must be a positive integer`);
  assertStrictlySorted(
    buckets.map((b) => b.name),
    "bucket",
  );

  const writer = new PageWriter(pageSize);
  const rootElements: LeafElement[] = buckets.map((bucket) => {
    assertStrictlySorted(
      bucket.entries.map(([key]) => key),
      `bucket ${new TextDecoder().decode(bucket.name)} entry`,
    );
    const elements = bucket.entries.map(([key, value]): LeafElement => {
      assert(value.length <= MAX_VALUE_BYTES, "value too large for bbolt");
      return { key, value, flags: 0 };
    });
    return { key: bucket.name, value: writer.bucketValue(elements), flags: BUCKET_LEAF_FLAG };
  });
  // The root bucket is never inline: the meta must point at a real page.
  const rootPgid = writer.writeTree(rootElements);
  const highWaterPgid = writer.nextPgid;

  const file = new Uint8Array(highWaterPgid * pageSize);
  for (let pgid = 0; pgid < META_PAGE_COUNT; pgid++) {
    const metaTxid = pgid === txid % 2 ? txid : txid - 1;
    file.set(encodeMeta(pgid, pageSize, rootPgid, highWaterPgid, metaTxid), pgid * pageSize);
  }
  const freelist = new Uint8Array(pageSize);
  writeHeader(new DataView(freelist.buffer), 0, FREELIST_PGID, FREELIST_PAGE_FLAG, 0, 0);
  file.set(freelist, FREELIST_PGID * pageSize);
  let offset = FIRST_DATA_PGID * pageSize;
  for (const page of writer.pages) {
    file.set(page, offset);
    offset += page.length;
  }
  assert(offset === file.length, "written pages do not match the high-water mark");
  return file;
}
