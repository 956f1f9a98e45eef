import type { Client } from "@connectrpc/connect";
import type { KV } from "@etcd-ts/proto/etcdserverpb";
import type { KeyValue } from "@etcd-ts/proto/mvccpb";

/** MAX_HISTORY_VERSIONS bounds how many past versions of a key the browser fetches. */
export const MAX_HISTORY_VERSIONS = 50;

/** KeyHistory is the versions of a key in its current life, newest first. */
export interface KeyHistory {
  versions: KeyValue[];
  /** end says why the walk stopped: the key's creation, compaction, or the version limit. */
  end: "created" | "compacted" | "limit";
}

/**
 * keyHistory walks a key's history back from `latest`: a read at revision `modRevision - 1` returns the
 * version before, and so on down to the revision that created the key (its version 1). Revisions older
 * than the last compaction are gone; the walk stops there.
 */
export async function keyHistory(kv: Client<typeof KV>, latest: KeyValue): Promise<KeyHistory> {
  const versions = [latest];
  let current = latest;
  while (versions.length < MAX_HISTORY_VERSIONS) {
    if (current.version <= 1n || current.modRevision <= current.createRevision)
      return { versions, end: "created" };
    let previous: KeyValue | undefined;
    try {
      const res = await kv.range({
        key: current.key,
        revision: current.modRevision - 1n,
        serializable: true,
      });
      previous = res.kvs[0];
    } catch (err) {
      if (/compacted/.test((err as Error).message)) return { versions, end: "compacted" };
      throw err;
    }
    if (previous === undefined) return { versions, end: "created" };
    versions.push(previous);
    current = previous;
  }
  return { versions, end: "limit" };
}
