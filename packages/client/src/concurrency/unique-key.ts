/**
 * Unique keys for the recipes: `<prefix>/<suffix>` created only if absent (a txn on create revision 0), so
 * two writers never overwrite each other. Order among such keys comes from their create revisions.
 */
import type { Bytes } from "../bytes.js";
import type { EtcdClient } from "../client.js";
import type { CallSettings } from "../connection.js";
import { Cmp, Op } from "../txn.js";

let counter = 0;

/** uniqueSuffix is a sortable-by-time, practically unique suffix. */
export function uniqueSuffix(): string {
  counter = (counter + 1) % 0x10000;
  const random = Math.floor(Math.random() * 0x100000000);
  return `${Date.now().toString().padStart(15, "0")}-${counter.toString(16).padStart(4, "0")}${random.toString(16).padStart(8, "0")}`;
}

/** createUnique writes `value` at a new key under `prefix` and returns the key and its create revision. */
export async function createUnique(
  client: EtcdClient,
  prefix: string,
  value: Bytes,
  options: { lease?: bigint } & CallSettings = {},
): Promise<{ key: string; revision: bigint }> {
  for (;;) {
    const key = `${prefix}${uniqueSuffix()}`;
    const { lease, ...settings } = options;
    const result = await client
      .txn()
      .if(Cmp.createRevision(key, "==", 0))
      .onSuccess(Op.put(key, value, lease === undefined ? {} : { lease }))
      .commit(settings);
    if (result.succeeded) return { key, revision: result.header.revision };
  }
}

/** waitForPut resolves at the first PUT under `prefix` after `revision`. */
export async function waitForPut(
  client: EtcdClient,
  prefix: string,
  revision: bigint,
  settings: CallSettings = {},
): Promise<void> {
  const watcher = client.watch(prefix, {
    prefix: true,
    startRevision: revision + 1n,
    noDelete: true,
    ...(settings.signal === undefined ? {} : { signal: settings.signal }),
  });
  try {
    for await (const _ of watcher) return;
  } finally {
    await watcher.cancel();
  }
}
