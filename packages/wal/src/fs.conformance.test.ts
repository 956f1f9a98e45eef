import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { WalFs } from "./fs.js";
import { MemWalFs } from "./mem-fs.js";
import { NodeWalFs } from "./node-fs.js";

/** One conformance suite for every WalFs implementation: what the WAL relies on, on each of them. */

const realRoot = mkdtempSync(join(tmpdir(), "etcd-ts-walfs-"));
afterAll(() => rmSync(realRoot, { recursive: true, force: true }));

const implementations: Array<[string, () => { fs: WalFs; root: string }]> = [
  ["NodeWalFs", () => ({ fs: new NodeWalFs(), root: mkdtempSync(join(realRoot, "case-")) })],
  ["MemWalFs", () => ({ fs: new MemWalFs(), root: "/root" })],
];

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

describe.each(implementations)("%s", (_name, make) => {
  it("creates exclusively, writes at positions, reads back, reports size", async () => {
    const { fs, root } = make();
    const dir = join(root, "a", "b");
    await fs.mkdir(dir);
    await fs.mkdir(dir); // idempotent
    const path = join(dir, "f");
    const file = await fs.open(path, { create: true });
    await expect(fs.open(path, { create: true })).rejects.toMatchObject({ code: "EEXIST" });
    await file.pwrite(bytes(1, 2, 3), 0);
    await file.pwrite(bytes(9), 5); // a hole reads as zeros
    await file.fdatasync();
    expect(await file.size()).toBe(6);
    expect(await file.read(0, 6)).toEqual(bytes(1, 2, 3, 0, 0, 9));
    expect(await file.read(4, 100)).toEqual(bytes(0, 9)); // short at the end
    await file.close();
    const again = await fs.open(path);
    expect(await again.read(0, 3)).toEqual(bytes(1, 2, 3));
    await again.close();
  });

  it("reads large files (mostly zeros, data scattered, a partial last block) byte for byte", async () => {
    const { fs, root } = make();
    await fs.mkdir(root);
    const file = await fs.open(join(root, "big"), { create: true });
    const size = 3 * 1024 * 1024 + 100;
    const expected = new Uint8Array(size);
    // Data at the start, one byte at the end of a 64 KiB block, a run across a 1 MiB boundary, the tail.
    for (const [at, length] of [
      [0, 5000],
      [65_535, 1],
      [1024 * 1024 - 10, 30],
      [size - 7, 7],
    ] as const) {
      const part = new Uint8Array(length).map((_, i) => ((at + i) % 251) + 1);
      expected.set(part, at);
      await file.pwrite(part, at);
    }
    await file.truncate(size);
    // Compared as buffers: a deep equality of millions of elements takes the test runner seconds.
    const same = (actual: Uint8Array, wanted: Uint8Array) => Buffer.from(actual).equals(Buffer.from(wanted));
    expect(same(await file.read(0, size), expected)).toBe(true);
    const middle = expected.subarray(65_000, 65_000 + 2 * 1024 * 1024);
    expect(same(await file.read(65_000, 2 * 1024 * 1024), middle)).toBe(true);
    expect(same(await file.read(size - 1_500_000, 2_000_000), expected.subarray(size - 1_500_000))).toBe(
      true,
    );
    await file.close();
  });

  it("truncates and extends with zeros", async () => {
    const { fs, root } = make();
    await fs.mkdir(root);
    const file = await fs.open(join(root, "t"), { create: true });
    await file.pwrite(bytes(5, 5, 5, 5), 0);
    await file.truncate(2);
    await file.truncate(4);
    expect(await file.read(0, 4)).toEqual(bytes(5, 5, 0, 0));
    await file.close();
  });

  it("lists, renames (replacing), unlinks, and syncs directories", async () => {
    const { fs, root } = make();
    const dir = join(root, "d");
    expect(await fs.readdir(dir)).toEqual([]); // missing directory lists as empty
    await fs.mkdir(dir);
    for (const name of ["x", "y"]) {
      const file = await fs.open(join(dir, name), { create: true });
      await file.pwrite(new TextEncoder().encode(name), 0);
      await file.close();
    }
    expect((await fs.readdir(dir)).sort()).toEqual(["x", "y"]);
    await fs.rename(join(dir, "x"), join(dir, "y"));
    await fs.fsyncDir(dir);
    expect(await fs.readdir(dir)).toEqual(["y"]);
    const y = await fs.open(join(dir, "y"));
    expect(await y.read(0, 1)).toEqual(new TextEncoder().encode("x"));
    await y.close();
    await fs.unlink(join(dir, "y"));
    await fs.fsyncDir(dir);
    expect(await fs.readdir(dir)).toEqual([]);
    await expect(fs.open(join(dir, "y"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(fs.unlink(join(dir, "y"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
