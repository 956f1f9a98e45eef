/**
 * waitDeletes: the waiting step shared by locks, elections and the RW lock — wait until no key under a prefix
 * has a create revision at or below a bound, i.e. everyone queued before us is gone. Only the closest
 * predecessor is watched at a time (no thundering herd).
 */
import type { EtcdClient } from "../client.js";
import type { CallSettings } from "../connection.js";
import { CanceledError, DeadlineExceededError } from "../errors.js";

/**
 * waitDeletes returns once every key under `prefix` with createRevision <= `maxCreateRevision` is deleted.
 * It rejects when `settings.signal` aborts or `settings.timeoutMs` passes.
 */
export async function waitDeletes(
  client: EtcdClient,
  prefix: string,
  maxCreateRevision: bigint,
  settings: CallSettings = {},
): Promise<void> {
  const deadline = settings.timeoutMs === undefined ? undefined : Date.now() + settings.timeoutMs;
  for (;;) {
    const left = deadline === undefined ? undefined : deadline - Date.now();
    if (left !== undefined && left <= 0) throw new DeadlineExceededError();
    const call: CallSettings = {};
    if (settings.signal !== undefined) call.signal = settings.signal;
    if (left !== undefined) call.timeoutMs = left;
    const last = await client.get(prefix, {
      ...call,
      prefix: true,
      maxCreateRevision,
      sortBy: "create",
      sortOrder: "descend",
      limit: 1,
    });
    const predecessor = last.kvs[0];
    if (predecessor === undefined) return;
    await waitDelete(client, predecessor.key, last.header.revision, call);
  }
}

/** waitDelete waits for `key` to be deleted after `revision`. */
async function waitDelete(
  client: EtcdClient,
  key: Uint8Array,
  revision: bigint,
  settings: CallSettings,
): Promise<void> {
  const watcher = client.watch(key, {
    startRevision: revision + 1n,
    noPut: true,
    ...(settings.signal === undefined ? {} : { signal: settings.signal }),
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const deleted = (async () => {
      for await (const event of watcher) if (event.type === "delete") return;
    })();
    if (settings.timeoutMs === undefined) {
      await deleted;
      return;
    }
    const ms = settings.timeoutMs;
    await Promise.race([
      deleted,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceededError()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await watcher.cancel();
  }
  if (settings.signal?.aborted)
    throw new CanceledError("context canceled", { cause: settings.signal.reason });
}
