/**
 * Barrier and DoubleBarrier, like etcd's recipes.
 *
 * A Barrier blocks waiters while its key exists: `hold()` puts it, `release()` deletes it, `wait()` returns once
 * it is gone. A DoubleBarrier lets `count` participants enter together and leave together: `enter()` returns
 * when `count` participants have entered, `leave()` when all of them have left.
 */
import type { EtcdClient } from "../client.js";
import type { CallSettings } from "../connection.js";
import { Cmp, Op } from "../txn.js";
import type { Session } from "./session.js";
import { waitDeletes } from "./wait-deletes.js";

/** Barrier blocks waiters until released. */
export class Barrier {
  readonly client: EtcdClient;
  readonly key: string;

  constructor(client: EtcdClient, key: string) {
    this.client = client;
    this.key = key;
  }

  /** hold raises the barrier (idempotent). */
  async hold(settings?: CallSettings): Promise<void> {
    await this.client
      .txn()
      .if(Cmp.createRevision(this.key, "==", 0))
      .onSuccess(Op.put(this.key, ""))
      .commit(settings);
  }

  /** release lowers the barrier, letting every waiter through. */
  async release(settings?: CallSettings): Promise<void> {
    await this.client.delete(this.key, settings);
  }

  /** wait returns once the barrier is down (at once if it is not held). */
  async wait(settings: CallSettings = {}): Promise<void> {
    const held = await this.client.get(this.key, settings);
    if (held.kvs[0] === undefined) return;
    const watcher = this.client.watch(this.key, {
      startRevision: held.header.revision + 1n,
      noPut: true,
      ...(settings.signal === undefined ? {} : { signal: settings.signal }),
    });
    try {
      for await (const _ of watcher) return;
    } finally {
      await watcher.cancel();
    }
  }
}

/** DoubleBarrier synchronizes the entry and exit of `count` participants (one per session). */
export class DoubleBarrier {
  readonly session: Session;
  readonly prefix: string;
  readonly count: number;
  private readonly readyKey: string;
  private readonly myKey: string;

  constructor(session: Session, name: string, count: number) {
    this.session = session;
    this.prefix = name.endsWith("/") ? name : `${name}/`;
    this.count = count;
    this.readyKey = `${this.prefix}ready`;
    this.myKey = `${this.prefix}waiters/${session.leaseHex}`;
  }

  /** enter registers this participant and waits until `count` have entered. */
  async enter(settings: CallSettings = {}): Promise<void> {
    const client = this.session.client;
    await client.put(this.myKey, "", { ...settings, lease: this.session.leaseId });
    for (;;) {
      const waiters = await client.get(`${this.prefix}waiters/`, {
        ...settings,
        prefix: true,
        countOnly: true,
      });
      const ready = await client.get(this.readyKey, settings);
      if (ready.kvs[0] !== undefined) return;
      if (waiters.count >= this.count) {
        await client.put(this.readyKey, "", settings);
        return;
      }
      await waitForKey(client, this.readyKey, `${this.prefix}waiters/`, ready.header.revision, settings);
    }
  }

  /** leave removes this participant and waits until every participant has left. */
  async leave(settings: CallSettings = {}): Promise<void> {
    const client = this.session.client;
    await client.delete(this.myKey, settings);
    const waiters = `${this.prefix}waiters/`;
    const now = await client.get(waiters, { ...settings, prefix: true, countOnly: true });
    await waitDeletes(client, waiters, now.header.revision, settings);
    await client.delete(this.readyKey, settings);
  }
}

/** waitForKey waits for any change to `key` or under `prefix` after `revision`. */
async function waitForKey(
  client: EtcdClient,
  key: string,
  prefix: string,
  revision: bigint,
  settings: CallSettings,
): Promise<void> {
  const watchers = [
    client.watch(key, { startRevision: revision + 1n }),
    client.watch(prefix, { prefix: true, startRevision: revision + 1n }),
  ];
  try {
    await Promise.race([
      ...watchers.map(async (w) => {
        for await (const _ of w) return;
      }),
      new Promise<void>((resolve) =>
        settings.signal?.addEventListener("abort", () => resolve(), { once: true }),
      ),
    ]);
  } finally {
    for (const w of watchers) await w.cancel();
  }
}
