import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BoltBucket, writeBoltFile } from "./bolt-file.js";

const ETCDCTL = "/usr/bin/etcdctl";
const PAGE_SIZE = 4096;
const encoder = new TextEncoder();
const dir = mkdtempSync(join(tmpdir(), "bolt-file-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** revisionKey builds etcd's key-bucket key: 8 bytes big-endian main, '_', 8 bytes big-endian sub. */
function revisionKey(main: number, sub: number, tombstone = false): Uint8Array {
  const key = new Uint8Array(tombstone ? 18 : 17);
  const view = new DataView(key.buffer);
  view.setBigUint64(0, BigInt(main));
  key[8] = 0x5f;
  view.setBigUint64(9, BigInt(sub));
  if (tombstone) key[17] = 0x74;
  return key;
}

function bucket(name: string, entries: Array<[string | Uint8Array, string | Uint8Array]>): BoltBucket {
  const bytes = (s: string | Uint8Array) => (typeof s === "string" ? encoder.encode(s) : s);
  return { name: encoder.encode(name), entries: entries.map(([k, v]) => [bytes(k), bytes(v)]) };
}

interface Status {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

function snapshotStatus(file: Uint8Array, name: string): Status {
  const path = join(dir, name);
  writeFileSync(path, file);
  const out = execFileSync(ETCDCTL, ["snapshot", "status", path, "-w", "json"], {
    env: { ...process.env, ETCDCTL_API: "3" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(out) as Status;
}

describe.skipIf(!existsSync(ETCDCTL))("writeBoltFile read back by etcdctl snapshot status", () => {
  it("writes a small etcd-like layout", () => {
    const file = writeBoltFile([
      bucket("key", [
        [revisionKey(2, 0), "put a"],
        [revisionKey(3, 0), "put b"],
        [revisionKey(4, 0, true), "delete a"],
      ]),
      bucket("lease", [["\x00\x00\x00\x00\x00\x00\x00\x07", "lease 7"]]),
      bucket("members", [["8e9e05c52164694d", '{"id":1}']]),
      bucket("meta", [
        ["consistent_index", "\x00\x00\x00\x00\x00\x00\x00\x09"],
        ["finishedCompactRev", "\x00\x00\x00\x00\x00\x00\x00\x01"],
      ]),
    ]);
    expect(file.length % PAGE_SIZE).toBe(0);
    const status = snapshotStatus(file, "small.db");
    expect(status.totalKey).toBe(7);
    expect(status.revision).toBe(4);
    expect(status.totalSize).toBe(file.length);
  });

  it("writes an empty bucket", () => {
    const file = writeBoltFile([bucket("empty", []), bucket("key", [[revisionKey(5, 1), "v"]])], { txid: 8 });
    const status = snapshotStatus(file, "empty.db");
    expect(status.totalKey).toBe(1);
    expect(status.revision).toBe(5);
  });

  it("writes a large bucket as leaf pages under branch pages", () => {
    const count = 20_000;
    const value = new Uint8Array(100).fill(0x61);
    const entries: Array<[Uint8Array, Uint8Array]> = [];
    for (let i = 0; i < count; i++) entries.push([revisionKey(i + 2, 0), value]);
    const file = writeBoltFile([{ name: encoder.encode("key"), entries }, bucket("meta", [["k", "v"]])]);
    // More than one page per 30 entries: the tree needs branch pages above its leaves.
    expect(file.length / PAGE_SIZE).toBeGreaterThan(count / 32);
    const status = snapshotStatus(file, "large.db");
    expect(status.totalKey).toBe(count + 1);
    expect(status.revision).toBe(count + 1);
  });

  it("writes a value larger than a page with overflow pages", () => {
    const big = new Uint8Array(10 * 1024).map((_, i) => i % 251);
    const file = writeBoltFile([
      bucket("key", [
        [revisionKey(1, 0), "small"],
        [revisionKey(2, 0), big],
        [revisionKey(3, 0), "after"],
      ]),
    ]);
    const status = snapshotStatus(file, "overflow.db");
    expect(status.totalKey).toBe(3);
    expect(status.revision).toBe(3);
  });

  /** corruptMeta flips a byte of the txid field (meta offset 48, inside the checksummed region). */
  function corruptMeta(file: Uint8Array, pgid: number): void {
    const at = pgid * PAGE_SIZE + 16 + 48;
    file[at] = (file[at] as number) ^ 0xff;
  }

  it("opens with either meta alone, so both are valid", () => {
    for (const pgid of [0, 1]) {
      const file = writeBoltFile([bucket("key", [[revisionKey(2, 0), "v"]])]);
      corruptMeta(file, pgid);
      const status = snapshotStatus(file, `one-meta-${pgid}.db`);
      expect(status.totalKey).toBe(1);
      expect(status.revision).toBe(2);
    }
  });

  it("is rejected when both meta checksums fail", () => {
    const file = writeBoltFile([bucket("key", [[revisionKey(2, 0), "v"]])]);
    corruptMeta(file, 0);
    corruptMeta(file, 1);
    let stderr = "";
    try {
      snapshotStatus(file, "corrupt.db");
    } catch (err) {
      stderr = String((err as { stderr?: unknown }).stderr);
    }
    expect(stderr).toMatch(/checksum/);
  });

  it("asserts bytewise sortedness and uniqueness", () => {
    expect(() => writeBoltFile([bucket("b", []), bucket("a", [])])).toThrow(/sorted/);
    expect(() =>
      writeBoltFile([
        bucket("key", [
          ["x", "1"],
          ["x", "2"],
        ]),
      ]),
    ).toThrow(/sorted/);
  });
});
