import { describe, expect, it } from "vitest";
import { SeededRandom } from "../playground/seeded-random.js";
import { keyTree, parentPrefix } from "./key-tree.js";

describe("keyTree", () => {
  it("groups keys into folders and keys at a prefix", () => {
    const keys = ["/a/1", "/a/2", "/a/b/3", "/b", "/c/", "other"];
    expect(keyTree(keys, "")).toEqual([
      { kind: "folder", name: "/", prefix: "/", count: 5 },
      { kind: "key", name: "other", key: "other" },
    ]);
    expect(keyTree(keys, "/")).toEqual([
      { kind: "folder", name: "a/", prefix: "/a/", count: 3 },
      { kind: "key", name: "b", key: "/b" },
      { kind: "key", name: "c/", key: "/c/" },
    ]);
    expect(keyTree(keys, "/a/")).toEqual([
      { kind: "folder", name: "b/", prefix: "/a/b/", count: 1 },
      { kind: "key", name: "1", key: "/a/1" },
      { kind: "key", name: "2", key: "/a/2" },
    ]);
  });

  // fast-check is not a dependency of this app; a seeded generator gives the same kind of sweep.
  it("shows every key under the prefix exactly once, as a key or inside one folder", () => {
    const random = new SeededRandom(1);
    const word = (max: number) =>
      Array.from({ length: random.int(max + 1) }, () => "ab/"[random.int(3)]).join("");
    for (let run = 0; run < 500; run++) {
      const keys = [...new Set(Array.from({ length: random.int(30) }, () => word(6)))];
      const prefix = word(3);
      const tree = keyTree(keys, prefix);
      const under = keys.filter((k) => k.startsWith(prefix));
      const leaves = tree.flatMap((e) => (e.kind === "key" ? [e.key] : []));
      const inFolders = tree.reduce((n, e) => n + (e.kind === "folder" ? e.count : 0), 0);
      expect(leaves.length + inFolders).toBe(under.length);
      for (const e of tree) {
        if (e.kind === "folder") {
          expect(e.count).toBe(under.filter((k) => k.startsWith(e.prefix) && k !== e.prefix).length);
        }
      }
    }
  });
});

describe("parentPrefix", () => {
  it("goes one folder up", () => {
    expect(parentPrefix("/a/b/")).toBe("/a/");
    expect(parentPrefix("/a/")).toBe("/");
    expect(parentPrefix("/")).toBe("");
    expect(parentPrefix("")).toBe("");
  });
});
