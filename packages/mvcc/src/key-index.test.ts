import { expect, test } from "vitest";
import { KeyIndex } from "./key-index.js";

const rev = (main: number, sub = 0) => ({ main, sub });

test("versions and creation revisions across generations", () => {
  const index = new KeyIndex("k");
  index.put(rev(2), 0n);
  index.put(rev(4, 1), 7n);
  index.tombstone(rev(6));
  index.put(rev(8), 0n);
  expect(index.get(1)).toBeUndefined();
  expect(index.get(3)).toEqual({ modified: rev(2), created: 2, version: 1 });
  expect(index.get(5)).toEqual({ modified: rev(4, 1), created: 2, version: 2 });
  expect(index.get(6)).toBeUndefined();
  expect(index.get(7)).toBeUndefined();
  expect(index.get(9)).toEqual({ modified: rev(8), created: 8, version: 1 });
  expect(index.lease).toBe(0n);
});

test("compaction keeps the latest revision at or below the compaction revision", () => {
  const index = new KeyIndex("k");
  index.put(rev(2), 0n);
  index.put(rev(3), 0n);
  index.put(rev(5), 0n);
  index.compact(4);
  expect(index.revisions()).toEqual([rev(3), rev(5)]);
  expect(index.get(4)).toEqual({ modified: rev(3), created: 2, version: 2 });
  expect(index.get(5)).toEqual({ modified: rev(5), created: 2, version: 3 });
});

test("a deletion below the compaction revision takes its generation; one at it stays", () => {
  const a = new KeyIndex("a");
  a.put(rev(2), 0n);
  a.tombstone(rev(3));
  a.compact(4);
  expect(a.isEmpty()).toBe(true);

  const b = new KeyIndex("b");
  b.put(rev(2), 0n);
  b.tombstone(rev(4));
  b.compact(4);
  expect(b.revisions()).toEqual([rev(4)]);
  expect(b.get(4)).toBeUndefined();
  b.compact(5);
  expect(b.isEmpty()).toBe(true);

  const c = new KeyIndex("c");
  c.put(rev(2), 0n);
  c.tombstone(rev(6));
  c.put(rev(7), 0n);
  c.compact(4);
  expect(c.revisions()).toEqual([rev(2), rev(6), rev(7)]);
  expect(c.get(5)).toEqual({ modified: rev(2), created: 2, version: 1 });
});

test("restore rebuilds a compacted generation from stored creation revision and version", () => {
  const index = new KeyIndex("k");
  index.restore(rev(9), 3, 4, 5n);
  expect(index.get(9)).toEqual({ modified: rev(9), created: 3, version: 4 });
  expect(index.lease).toBe(5n);
  index.put(rev(10), 5n);
  expect(index.get(10)?.version).toBe(5);
});
