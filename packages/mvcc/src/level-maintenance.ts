import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** LevelRootLike is the part of a root classic-level database (view key encoding) that maintenance uses. */
export interface LevelRootLike {
  approximateSize(start: Uint8Array, end: Uint8Array): Promise<number>;
  compactRange(start: Uint8Array, end: Uint8Array): Promise<void>;
}

const LOWEST_KEY = new Uint8Array([0x00]);
/** HIGHEST_KEY is above every key the members store (all sublevel prefixes are printable). */
const HIGHEST_KEY = new Uint8Array(16).fill(0xff);

/**
 * databaseSizeBytes is the on-disk size of a LevelDB directory (etcd's Status.dbSize): the sum of its files,
 * including data that compaction has deleted but LevelDB has not reclaimed yet.
 */
export function databaseSizeBytes(directory: string): number {
  let total = 0;
  for (const name of readdirSync(directory)) {
    const stats = statSync(join(directory, name));
    if (stats.isFile()) total += stats.size;
  }
  return total;
}

/**
 * databaseSizeInUseBytes estimates the bytes the live keys of the whole database occupy (etcd's
 * Status.dbSizeInUse), from LevelDB's own approximation over the full key range.
 */
export function databaseSizeInUseBytes(db: LevelRootLike): Promise<number> {
  return db.approximateSize(LOWEST_KEY, HIGHEST_KEY);
}

/**
 * defragment compacts LevelDB's whole key range, rewriting the tables so that space freed by mvcc compaction
 * and deletions is returned (etcd's Defragment). It blocks nothing in this process, but is I/O heavy.
 */
export function defragment(db: LevelRootLike): Promise<void> {
  return db.compactRange(LOWEST_KEY, HIGHEST_KEY);
}
