import { assert } from "./assert.js";
import { compareRevisions, type Revision } from "./revision.js";

/**
 * Generation is one life of a key: from its creation to its deletion (tombstone) or to now.
 * Invariants: `revs` is strictly increasing; in a generation that is not the key's last one the final entry is
 * the tombstone; `version` is the version of the last entry of `revs` (a tombstone counts as one modification,
 * so the version of `revs[i]` is `version - (revs.length - 1 - i)` even after older entries were compacted).
 */
export interface Generation {
  /** created is the main revision of the change that started this generation. */
  created: number;
  version: number;
  revs: Revision[];
}

/** KeyRevisionInfo describes a key as of some revision: which change is visible, created when, which version. */
export interface KeyRevisionInfo {
  readonly modified: Revision;
  readonly created: number;
  readonly version: number;
}

/**
 * KeyIndex holds the history of one key as generations of revisions (values live in the backend, keyed by
 * revision). The last generation is the current one; it is empty when the key is deleted.
 */
export class KeyIndex {
  /** key is the user key as a binary (latin1) string, one char per byte, so strings sort like bytes. */
  readonly key: string;
  /** generations are ordered oldest first; never empty. */
  readonly generations: Generation[] = [{ created: 0, version: 0, revs: [] }];
  /** modified is the latest revision of the key (its tombstone when deleted). */
  modified: Revision = { main: 0, sub: 0 };
  /** lease is the lease attached to the current live value, 0n when deleted or none. */
  lease = 0n;

  constructor(key: string) {
    this.key = key;
  }

  private current(): Generation {
    const generation = this.generations[this.generations.length - 1];
    assert(generation !== undefined, "key index without generations");
    return generation;
  }

  /** put records a new value of the key at `rev`. */
  put(rev: Revision, lease: bigint): void {
    assert(
      compareRevisions(rev, this.modified) > 0,
      `put at ${rev.main}.${rev.sub} is not after the last change`,
    );
    const generation = this.current();
    if (generation.revs.length === 0) {
      generation.created = rev.main;
      // A fresh one-element array: pushing onto an empty one would reserve room for 17 (most keys keep one).
      generation.revs = [rev];
    } else {
      generation.revs.push(rev);
    }
    generation.version += 1;
    this.modified = rev;
    this.lease = lease;
  }

  /**
   * restore records a value read back from the backend when rebuilding the index: the first change seen of a
   * generation carries its creation revision and version from the stored KeyValue, since older changes may be
   * compacted away.
   */
  restore(rev: Revision, created: number, version: number, lease: bigint): void {
    const generation = this.current();
    const fresh = generation.revs.length === 0;
    this.put(rev, lease);
    if (fresh) {
      generation.created = created;
      generation.version = version;
    }
    assert(generation.version === version, `restored version ${version} does not follow the generation`);
  }

  /**
   * restoreTombstone records a deletion read back from the backend. After compaction a deletion can be the only
   * change left of its generation; it then forms that generation on its own.
   */
  restoreTombstone(rev: Revision): void {
    this.put(rev, 0n);
    this.generations.push({ created: 0, version: 0, revs: [] });
  }

  /** tombstone records the deletion of the live key at `rev` and starts an empty generation. */
  tombstone(rev: Revision): void {
    assert(this.current().revs.length > 0, "tombstone of a key that is not live");
    this.put(rev, 0n);
    this.generations.push({ created: 0, version: 0, revs: [] });
  }

  /**
   * undo takes back the latest change `rev` (a write executed into the index whose batch was never written);
   * `lease` is the key's lease before that change.
   */
  undo(rev: Revision, lease: bigint): void {
    // An empty generation after others means the latest change was a deletion that opened it.
    if (this.current().revs.length === 0 && this.generations.length > 1) this.generations.pop();
    const generation = this.current();
    const last = generation.revs[generation.revs.length - 1];
    assert(
      last !== undefined && compareRevisions(last, rev) === 0,
      `undo of ${rev.main}.${rev.sub}, which is not the latest change of the key`,
    );
    generation.revs.pop();
    generation.version -= 1;
    if (generation.revs.length === 0) generation.created = 0;
    const previous =
      generation.revs[generation.revs.length - 1] ??
      this.generations[this.generations.length - 2]?.revs.at(-1) ??
      ({ main: 0, sub: 0 } as Revision);
    this.modified = previous;
    this.lease = this.isLive() ? lease : 0n;
  }

  /** isLive tells whether the key currently has a value. */
  isLive(): boolean {
    return this.current().revs.length > 0;
  }

  /** isEmpty tells whether nothing of the key's history is left (after compaction). */
  isEmpty(): boolean {
    return this.generations.length === 1 && this.current().revs.length === 0;
  }

  /** get describes the key as of store revision `atMain`; undefined when it did not exist or was deleted then. */
  get(atMain: number): KeyRevisionInfo | undefined {
    const last = this.generations.length - 1;
    for (let g = last; g >= 0; g--) {
      const generation = this.generations[g];
      assert(generation !== undefined, "generation index out of range");
      const revs = generation.revs;
      if (revs.length === 0) continue;
      const first = revs[0];
      assert(first !== undefined, "empty revs");
      if (g !== last) {
        const tomb = revs[revs.length - 1];
        assert(tomb !== undefined, "empty revs");
        if (tomb.main <= atMain) return undefined;
      }
      if (first.main > atMain) continue;
      let n = revs.length - 1;
      while (n > 0 && (revs[n]?.main ?? 0) > atMain) n--;
      const modified = revs[n];
      assert(modified !== undefined, "revision index out of range");
      return { modified, created: generation.created, version: generation.version - (revs.length - 1 - n) };
    }
    return undefined;
  }

  /** hasRevision tells whether `rev` is still part of this key's history. */
  hasRevision(rev: Revision): boolean {
    for (const generation of this.generations) {
      for (const r of generation.revs) {
        if (r.main === rev.main && r.sub === rev.sub) return true;
        if (r.main > rev.main) break;
      }
    }
    return false;
  }

  /**
   * compact drops the history that no read at or above `atMain` can see: for each key it keeps the latest
   * change at or below `atMain` and everything after it. A deletion strictly below `atMain` takes its whole
   * generation with it; a deletion exactly at `atMain` is kept so that a watch from the compacted revision
   * still sees every event of that revision.
   */
  compact(atMain: number): void {
    let drop = 0;
    while (drop < this.generations.length - 1) {
      const generation = this.generations[drop];
      assert(generation !== undefined, "generation index out of range");
      const tomb = generation.revs[generation.revs.length - 1];
      assert(tomb !== undefined, "finished generation without tombstone");
      if (tomb.main >= atMain) break;
      drop++;
    }
    if (drop > 0) this.generations.splice(0, drop);
    const generation = this.generations[0];
    assert(generation !== undefined, "no generation left");
    const revs = generation.revs;
    let n = -1;
    for (let i = 0; i < revs.length; i++) {
      if ((revs[i]?.main ?? 0) <= atMain) n = i;
      else break;
    }
    if (n > 0) revs.splice(0, n);
  }

  /** revisions lists every revision of the key still in the index, oldest first. */
  revisions(): Revision[] {
    return this.generations.flatMap((generation) => generation.revs);
  }
}
