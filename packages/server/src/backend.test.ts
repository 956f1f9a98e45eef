import fs from "node:fs";
import path from "node:path";
import { tempDir } from "@etcd-ts/test-support";
import { describe, expect, it } from "vitest";
import { Backend } from "./backend.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: unknown) => (b === undefined ? undefined : new TextDecoder().decode(b as Uint8Array));

describe("Backend", () => {
  it("commits puts, deletes and the consistent index atomically, readable through each sublevel", async () => {
    const backend = new Backend(tempDir("backend-"));
    await backend.open();
    try {
      const first = backend.write();
      first.scoped("kv").put(bytes("a"), bytes("1"));
      first.scoped("kv").put(bytes("b"), bytes("2"));
      first.scoped("lease").put(bytes("a"), bytes("lease-a"));
      first.setConsistentIndex(7, 2);
      expect(first.size).toBe(5);
      await first.commit();
      const second = backend.write();
      second.scoped("kv").del(bytes("a"));
      second.setConsistentIndex(8, 3);
      await second.commit(true);

      expect(text(await backend.sublevel("kv").get(bytes("a")))).toBeUndefined();
      expect(text(await backend.sublevel("kv").get(bytes("b")))).toBe("2");
      // Same key in another sublevel: a separate key.
      expect(text(await backend.sublevel("lease").get(bytes("a")))).toBe("lease-a");
      expect(await backend.consistentIndex()).toEqual({ index: 8, term: 3 });
    } finally {
      await backend.close();
    }
  });

  it("stores keys as abstract-level's sublevels do (`!name!key`), so existing data dirs read the same", async () => {
    const backend = new Backend(tempDir("backend-"));
    await backend.open();
    try {
      // Written the way earlier versions did: a chained batch with the sublevel option.
      const old = backend.db.batch();
      old.put(bytes("old"), bytes("x"), { sublevel: backend.sublevel("kv") });
      await old.write();
      const w = backend.write();
      w.scoped("kv").put(bytes("new"), bytes("y"));
      await w.commit();
      const keys = (await backend.db.keys().all()).map((k) => text(k));
      expect(keys).toEqual(["!kv!new", "!kv!old"]);
      expect(text(await backend.sublevel("kv").get(bytes("new")))).toBe("y");
    } finally {
      await backend.close();
    }
  });

  it("dumps in chunks of at most chunkBytes (a larger pair alone) and restores the same database", async () => {
    const dir = tempDir("backend-");
    const source = new Backend(path.join(dir, "source"));
    const target = new Backend(path.join(dir, "target"));
    await source.open();
    await target.open();
    try {
      const w = source.write();
      for (let i = 0; i < 300; i++)
        w.scoped("kv").put(bytes(`key-${String(i).padStart(3, "0")}`), bytes(`v${i}`));
      w.scoped("lease").put(bytes("big"), new Uint8Array(5000).fill(7)); // larger than a chunk
      w.scoped("auth").put(bytes("after-big"), bytes("x"));
      w.setConsistentIndex(42, 5);
      await w.commit();
      // The target holds something the restore must drop.
      const stale = target.write();
      stale.scoped("kv").put(bytes("stale"), bytes("gone"));
      stale.setConsistentIndex(3, 1);
      await stale.commit();

      const chunkBytes = 1024;
      const chunks: Uint8Array[] = [];
      for await (const chunk of source.dump(chunkBytes)) chunks.push(Uint8Array.from(chunk));
      expect(chunks.length).toBeGreaterThan(3);
      for (const chunk of chunks) {
        expect(chunk.length).toBeGreaterThan(0);
        if (chunk.length > chunkBytes) {
          // Only the oversized pair gets a chunk of its own, holding nothing else.
          const keyLength = new DataView(chunk.buffer).getUint32(0, false);
          expect(chunk.length).toBe(8 + keyLength + 5000);
        }
      }
      const file = path.join(dir, "dump");
      fs.writeFileSync(file, Buffer.concat(chunks));
      await target.restoreFrom(file);

      const all = async (b: Backend) =>
        (await b.db.iterator().all()).map(([k, v]) => [
          text(k),
          Buffer.from(v as Uint8Array).toString("hex"),
        ]);
      expect(await all(target)).toEqual(await all(source));
      expect(await target.consistentIndex()).toEqual({ index: 42, term: 5 });
      expect(await target.sublevel("kv").get(bytes("stale"))).toBeUndefined();
    } finally {
      await source.close();
      await target.close();
    }
  });
});
