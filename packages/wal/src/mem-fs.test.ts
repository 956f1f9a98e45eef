import { describe, expect, it } from "vitest";
import { MemWalFs } from "./mem-fs.js";

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

describe("MemWalFs", () => {
  it("keeps through a crash only what was synced: data by fdatasync, names by fsyncDir", async () => {
    const fs = new MemWalFs();
    await fs.mkdir("/d");
    const a = await fs.open("/d/a", { create: true });
    await a.pwrite(bytes(1, 2, 3), 0);
    await a.fdatasync();
    await fs.fsyncDir("/d");
    await a.pwrite(bytes(9, 9), 1); // not synced
    const b = await fs.open("/d/b", { create: true }); // name not synced
    await b.pwrite(bytes(5), 0);
    await b.fdatasync();
    fs.crash();
    expect(fs.listFiles()).toEqual(["/d/a"]);
    expect(fs.readFile("/d/a")).toEqual(bytes(1, 2, 3));
    await expect(a.read(0, 3)).rejects.toMatchObject({ code: "EBADF" });
  });

  it("keeps a rename only after fsyncDir, and never half of it", async () => {
    const fs = new MemWalFs();
    await fs.mkdir("/d");
    const f = await fs.open("/d/tmp", { create: true });
    await f.pwrite(bytes(7), 0);
    await f.fdatasync();
    await fs.fsyncDir("/d");
    await fs.rename("/d/tmp", "/d/final");
    const lost = fs.clone();
    lost.crash();
    expect(lost.listFiles()).toEqual(["/d/tmp"]);
    await fs.fsyncDir("/d");
    fs.crash();
    expect(fs.listFiles()).toEqual(["/d/final"]);
    expect(fs.readFile("/d/final")).toEqual(bytes(7));
  });

  it("tears unsynced writes at a random byte when given a random source", async () => {
    const seen = new Set<number>();
    for (let seed = 1; seed < 60; seed++) {
      const fs = new MemWalFs();
      await fs.mkdir("/d");
      const f = await fs.open("/d/f", { create: true });
      await f.truncate(16);
      await f.fdatasync();
      await fs.fsyncDir("/d");
      await f.pwrite(new Uint8Array(16).fill(0xaa), 0);
      let x = seed * 7919;
      fs.crash({
        random: () => {
          x = (x * 1103515245 + 12345) % 2 ** 31;
          return x / 2 ** 31;
        },
      });
      const data = fs.readFile("/d/f");
      expect(data).toHaveLength(16);
      // The surviving 0xaa bytes form a prefix of the write.
      const kept = data.findIndex((b) => b !== 0xaa);
      seen.add(kept === -1 ? 16 : kept);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it("injects faults, short writes, and power loss after N calls", async () => {
    const fs = new MemWalFs();
    await fs.mkdir("/d");
    const f = await fs.open("/d/f", { create: true });
    fs.injectFault({ op: "pwrite", code: "ENOSPC", partialBytes: 2 });
    await expect(f.pwrite(bytes(1, 2, 3, 4), 0)).rejects.toMatchObject({ code: "ENOSPC" });
    expect(fs.readFile("/d/f")).toEqual(bytes(1, 2));
    fs.injectFault({ op: "fdatasync", skipCalls: 1 });
    await f.fdatasync();
    await expect(f.fdatasync()).rejects.toMatchObject({ code: "EIO" });
    fs.crashAfter(1);
    await f.pwrite(bytes(1), 0);
    await expect(f.pwrite(bytes(2), 0)).rejects.toMatchObject({ code: "ECRASHED" });
    expect(fs.isDown).toBe(true);
    await expect(fs.readdir("/d")).rejects.toMatchObject({ code: "ECRASHED" });
    fs.crash();
    expect(fs.isDown).toBe(false);
    expect(fs.counts.fdatasync).toBe(2);
  });
});
