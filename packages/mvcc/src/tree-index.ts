import BTreeModule from "sorted-btree";
import { assert } from "./assert.js";
import { KeyIndex, type KeyRevisionInfo } from "./key-index.js";
import type { KeyRange } from "./key-range.js";
import type { Revision } from "./revision.js";

type BTreeClass = typeof BTreeModule.default;
// sorted-btree is CommonJS: Node's ESM loader hands out module.exports (class on `.default`), while bundlers
// such as vitest's hand out the class itself.
const BTree: BTreeClass =
  typeof (BTreeModule as { default?: unknown }).default === "function"
    ? BTreeModule.default
    : (BTreeModule as unknown as BTreeClass);

/** IndexedKey is one key of a range lookup with what the index knows of it at the asked revision. */
export interface IndexedKey extends KeyRevisionInfo {
  readonly key: string;
}

/**
 * TreeIndex is the in-memory index of every key: a B-tree from key (binary string) to its KeyIndex. Values are
 * not here; they are read from the backend by revision.
 */
export class TreeIndex {
  private readonly tree = new BTree<string, KeyIndex>();

  /** size is the number of keys with some history left. */
  get size(): number {
    return this.tree.size;
  }

  /** get returns the history of one key, if any. */
  get(key: string): KeyIndex | undefined {
    return this.tree.get(key);
  }

  /** getOrCreate returns the history of one key, creating an empty one when missing. */
  getOrCreate(key: string): KeyIndex {
    let index = this.tree.get(key);
    if (index === undefined) {
      index = new KeyIndex(key);
      this.tree.set(key, index);
    }
    return index;
  }

  /** put records a new value of `key` at `rev`. */
  put(key: string, rev: Revision, lease: bigint): void {
    this.getOrCreate(key).put(rev, lease);
  }

  /** tombstone records the deletion of the live `key` at `rev`. */
  tombstone(key: string, rev: Revision): void {
    const index = this.tree.get(key);
    assert(index !== undefined, "tombstone of an unknown key");
    index.tombstone(rev);
  }

  /** undo takes back the latest change `rev` of `key` (see KeyIndex.undo), forgetting a key left empty. */
  undo(key: string, rev: Revision, lease: bigint): void {
    const index = this.tree.get(key);
    assert(index !== undefined, "undo of an unknown key");
    index.undo(rev, lease);
    if (index.isEmpty()) this.tree.delete(key);
  }

  /** visit calls `fn` for each key index in the range, in key order, until it returns false. */
  visit(range: KeyRange, fn: (index: KeyIndex) => boolean | undefined): void {
    if (range.end === undefined) {
      const index = this.tree.get(range.start);
      if (index !== undefined) fn(index);
      return;
    }
    if (range.end !== null && range.end <= range.start) return;
    for (const [key, index] of this.tree.entries(range.start)) {
      if (range.end !== null && key >= range.end) return;
      if (fn(index) === false) return;
    }
  }

  /** range lists the keys in `range` that exist at store revision `atMain`, in key order. */
  range(range: KeyRange, atMain: number): IndexedKey[] {
    const out: IndexedKey[] = [];
    this.visit(range, (index) => {
      const info = index.get(atMain);
      if (info !== undefined) out.push({ key: index.key, ...info });
      return true;
    });
    return out;
  }

  /**
   * compactFrom compacts at most `maxKeys` keys at `atMain`, starting at key `from` (inclusive), removing keys
   * with no history left. It returns the key to continue from, or undefined when the end was reached.
   */
  compactFrom(from: string, atMain: number, maxKeys: number): string | undefined {
    const emptied: string[] = [];
    let next: string | undefined;
    let done = 0;
    for (const [key, index] of this.tree.entries(from)) {
      if (done === maxKeys) {
        next = key;
        break;
      }
      index.compact(atMain);
      if (index.isEmpty()) emptied.push(key);
      done++;
    }
    for (const key of emptied) this.tree.delete(key);
    return next;
  }

  /** hasRevision tells whether the change `rev` of `key` is still part of the index. */
  hasRevision(key: string, rev: Revision): boolean {
    return this.tree.get(key)?.hasRevision(rev) ?? false;
  }

  /** entries iterates every key index in key order. */
  entries(): IterableIterator<[string, KeyIndex]> {
    return this.tree.entries();
  }
}
