/**
 * `snapshot status` reads a snapshot file: a bbolt database in etcd's bucket layout (what etcd and etcd-ts
 * both write). It walks every bucket's B+tree, counts the keys, takes the revision of the last key in the
 * "key" bucket and a CRC-32C over bucket names, keys and values, as etcd's snapshot status does.
 */
import { readFileSync } from "node:fs";

const MAGIC = 0xed0cdaed;
const PAGE_HEADER = 16;
const BRANCH = 0x01;
const LEAF = 0x02;
const BUCKET_LEAF_FLAG = 0x01;
const ELEMENT_SIZE = 16;

/** SnapshotStatus is what `snapshot status` prints. */
export interface SnapshotStatus {
  hash: number;
  revision: bigint;
  totalKey: number;
  totalSize: number;
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Crc32c is an incremental CRC-32C (Castagnoli). */
class Crc32c {
  private crc = 0xffffffff;
  write(bytes: Uint8Array): void {
    let c = this.crc;
    for (const b of bytes) c = (CRC32C_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
    this.crc = c;
  }
  sum(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}

/** readSnapshotStatus reads a snapshot file; it throws with a message on a file that is not bbolt. */
export function readSnapshotStatus(path: string): SnapshotStatus {
  const file = readFileSync(path);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const meta = (offset: number) => {
    if (offset + 64 + PAGE_HEADER > file.length) return undefined;
    const m = offset + PAGE_HEADER;
    if (view.getUint32(m, true) !== MAGIC) return undefined;
    return {
      pageSize: view.getUint32(m + 8, true),
      root: view.getBigUint64(m + 16, true),
      highWater: view.getBigUint64(m + 40, true),
      txid: view.getBigUint64(m + 48, true),
    };
  };
  const m0 = meta(0);
  if (m0 === undefined) throw new Error("invalid database");
  const m1 = meta(m0.pageSize);
  const m = m1 !== undefined && m1.txid > m0.txid ? m1 : m0;
  const pageSize = m.pageSize;

  /** visit calls fn for each (key, value, isBucket) of the tree rooted at a page (or an inline page). */
  const visit = (
    buf: Buffer,
    pageOffset: number,
    fn: (k: Buffer, v: Buffer, bucket: boolean) => void,
  ): void => {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const flags = dv.getUint16(pageOffset + 8, true);
    const count = dv.getUint16(pageOffset + 10, true);
    for (let i = 0; i < count; i++) {
      const e = pageOffset + PAGE_HEADER + i * ELEMENT_SIZE;
      if (flags & LEAF) {
        const f = dv.getUint32(e, true);
        const pos = dv.getUint32(e + 4, true);
        const ksize = dv.getUint32(e + 8, true);
        const vsize = dv.getUint32(e + 12, true);
        const k = buf.subarray(e + pos, e + pos + ksize);
        const v = buf.subarray(e + pos + ksize, e + pos + ksize + vsize);
        fn(k, v, (f & BUCKET_LEAF_FLAG) !== 0);
      } else if (flags & BRANCH) {
        const child = dv.getBigUint64(e + 8, true);
        visit(file, Number(child) * pageSize, fn);
      }
    }
  };
  const forEachInBucket = (bucketValue: Buffer, fn: (k: Buffer, v: Buffer, bucket: boolean) => void) => {
    const root = bucketValue.readBigUInt64LE(0);
    if (root === 0n) visit(bucketValue, 16, fn);
    else visit(file, Number(root) * pageSize, fn);
  };

  const crc = new Crc32c();
  let totalKey = 0;
  let revision = 0n;
  visit(file, Number(m.root) * pageSize, (name, value, isBucket) => {
    if (!isBucket) return;
    crc.write(name);
    const isKeyBucket = name.toString("latin1") === "key";
    forEachInBucket(value, (k, v, nested) => {
      crc.write(k);
      if (!nested) crc.write(v);
      if (isKeyBucket && k.length >= 8) revision = k.readBigUInt64BE(0);
      totalKey++;
    });
  });
  return { hash: crc.sum(), revision, totalKey, totalSize: Number(m.highWater) * pageSize };
}
