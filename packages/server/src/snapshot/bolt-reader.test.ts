import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BoltBucket, writeBoltFile } from "./bolt-file.js";
import {
  BoltDb,
  checkSnapshotFileHash,
  checkSnapshotHash,
  fileSource,
  SnapshotFileError,
} from "./bolt-reader.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bolt-reader-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** withFile writes `bytes` to a file and runs `fn` with it open for reading. */
function withFile<T>(bytes: Uint8Array, fn: (fd: number) => T): T {
  const file = path.join(tmp, "snap.db");
  fs.writeFileSync(file, bytes);
  const fd = fs.openSync(file, "r");
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const encoder = new TextEncoder();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A tiny seeded generator (xorshift32), so the random layouts are the same on every run. */
function rng(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function randomBytes(next: (n: number) => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next(256);
  return out;
}

/** randomBuckets makes buckets of random sorted unique keys and values of widely varying sizes. */
function randomBuckets(seed: number, pageSize: number): BoltBucket[] {
  const next = rng(seed);
  const buckets: BoltBucket[] = [];
  const names = new Set<string>();
  const bucketCount = 1 + next(6);
  while (names.size < bucketCount) names.add(`b${next(1000)}`);
  for (const name of [...names].sort()) {
    const entries = new Map<string, Uint8Array>();
    const count = [0, 1, 5, 200, 3000][next(5)] as number;
    for (let i = 0; i < count; i++) {
      const key = randomBytes(next, 1 + next(40));
      // Mostly small values, some larger than a page (overflow pages).
      const size = next(20) === 0 ? pageSize + next(3 * pageSize) : next(120);
      entries.set(hex(key), randomBytes(next, size));
    }
    buckets.push({
      name: encoder.encode(name),
      entries: [...entries.keys()]
        .sort()
        .map((k) => [Uint8Array.from(Buffer.from(k, "hex")), entries.get(k) as Uint8Array]),
    });
  }
  return buckets;
}

/** readAll reads every top-level bucket back as name -> entries (hex), in the order the reader yields. */
function readAll(db: BoltDb): Array<[string, Array<[string, string]>]> {
  return [...db.root().buckets()].map(([name, bucket]) => [
    Buffer.from(name).toString(),
    [...bucket.entries()].map(([k, v]) => [hex(k), hex(v)]),
  ]);
}

function expected(buckets: BoltBucket[]): Array<[string, Array<[string, string]>]> {
  return buckets.map((b) => [Buffer.from(b.name).toString(), b.entries.map(([k, v]) => [hex(k), hex(v)])]);
}

/** flip inverts one byte of `bytes`. */
function flip(bytes: Uint8Array, at: number): void {
  bytes[at] = (bytes[at] as number) ^ 0xff;
}

function withTrailer(db: Uint8Array): Uint8Array {
  return Buffer.concat([db, createHash("sha256").update(db).digest()]);
}

describe("BoltDb reads what writeBoltFile writes", () => {
  it("reads a small layout with inline buckets", () => {
    const buckets: BoltBucket[] = [
      { name: encoder.encode("empty"), entries: [] },
      {
        name: encoder.encode("key"),
        entries: [
          [encoder.encode("a"), encoder.encode("1")],
          [encoder.encode("b"), encoder.encode("")],
        ],
      },
    ];
    const db = BoltDb.open(writeBoltFile(buckets, { txid: 7 }));
    expect(db.meta.txid).toBe(7);
    expect(db.meta.pageSize).toBe(4096);
    expect(readAll(db)).toEqual(expected(buckets));
    expect(db.root().bucket("key")?.count()).toBe(2);
    expect(db.root().bucket("missing")).toBeUndefined();
    expect(db.root().count()).toBe(2);
  });

  it("round-trips random layouts: branch pages, overflow values, several page sizes", () => {
    const seeds = Number(process.env.BOLT_SEEDS ?? 12);
    for (let seed = 1; seed <= seeds; seed++) {
      const pageSize = [1024, 4096, 16384][seed % 3] as number;
      const buckets = randomBuckets(seed, pageSize);
      const file = writeBoltFile(buckets, { pageSize, txid: seed });
      const db = BoltDb.open(file);
      expect(db.meta.pageSize).toBe(pageSize);
      expect(readAll(db), `seed ${seed}`).toEqual(expected(buckets));
      const total = buckets.reduce((n, b) => n + b.entries.length, 0);
      expect(db.root().count()).toBe(total);
    }
  });

  it("reads the same through positional file reads as from memory", () => {
    for (const seed of [4, 5, 6]) {
      const buckets = randomBuckets(seed, 4096);
      const file = writeBoltFile(buckets);
      const fromFile = withFile(file, (fd) => readAll(BoltDb.open(fileSource(fd, file.length))));
      expect(fromFile, `seed ${seed}`).toEqual(expected(buckets));
    }
  });

  it("uses the valid meta with the higher txid, and falls back when it is damaged", () => {
    const file = writeBoltFile([{ name: encoder.encode("k"), entries: [] }], { txid: 5 });
    // txid 5 lives in meta page 1 (5 % 2); page 0 holds txid 4.
    expect(BoltDb.open(file).meta.txid).toBe(5);
    const damaged = Uint8Array.from(file);
    flip(damaged, 4096 + 16 + 48); // meta 1's txid, so its checksum no longer matches
    expect(BoltDb.open(damaged).meta.txid).toBe(4);
    const both = Uint8Array.from(damaged);
    flip(both, 16 + 48);
    expect(() => BoltDb.open(both)).toThrow(/not a bbolt database.*bad checksum/);
  });

  it("refuses files that are not bbolt, truncated, or point outside themselves", () => {
    expect(() => BoltDb.open(new Uint8Array(10))).toThrow(SnapshotFileError);
    expect(() => BoltDb.open(encoder.encode("x".repeat(9000)))).toThrow(/not a bbolt database/);
    const buckets = randomBuckets(3, 4096);
    const file = writeBoltFile(buckets);
    expect(() => BoltDb.open(file.subarray(0, file.length - 4096))).toThrow(/truncated/);
    // A page whose header id is overwritten is caught when the tree reaches it.
    const bad = Uint8Array.from(file);
    const db = BoltDb.open(bad);
    bad.fill(0xee, db.meta.rootPgid * 4096, db.meta.rootPgid * 4096 + 8);
    expect(() => readAll(BoltDb.open(bad))).toThrow(SnapshotFileError);
  });
});

describe("checkSnapshotFileHash", () => {
  const db = writeBoltFile(randomBuckets(9, 4096));

  it("hashes the file in chunks: the db length when the trailer matches, refusals like checkSnapshotHash", () => {
    expect(withFile(withTrailer(db), (fd) => checkSnapshotFileHash(fd, false))).toBe(db.length);
    const corrupted = withTrailer(db);
    flip(corrupted, db.length - 1);
    expect(() => withFile(corrupted, (fd) => checkSnapshotFileHash(fd, false))).toThrow(
      /corrupted: expected sha256/,
    );
    expect(withFile(corrupted, (fd) => checkSnapshotFileHash(fd, true))).toBe(db.length);
    expect(() => withFile(db, (fd) => checkSnapshotFileHash(fd, false))).toThrow(/snapshot missing hash/);
    expect(withFile(db, (fd) => checkSnapshotFileHash(fd, true))).toBe(db.length);
  });
});

describe("checkSnapshotHash", () => {
  const db = writeBoltFile([{ name: encoder.encode("key"), entries: [] }]);

  it("strips a matching trailer", () => {
    expect(Buffer.from(checkSnapshotHash(withTrailer(db), false)).equals(db)).toBe(true);
  });

  it("refuses a corrupted file and a file without a trailer, unless told to skip the check", () => {
    const corrupted = withTrailer(db);
    flip(corrupted, 5000);
    expect(() => checkSnapshotHash(corrupted, false)).toThrow(/corrupted: expected sha256 [0-9a-f]{64}, got/);
    expect(checkSnapshotHash(corrupted, true).length).toBe(db.length);
    expect(() => checkSnapshotHash(db, false)).toThrow(/snapshot missing hash/);
    expect(checkSnapshotHash(db, true)).toBe(db);
  });
});
