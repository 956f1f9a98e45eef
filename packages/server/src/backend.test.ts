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
});
