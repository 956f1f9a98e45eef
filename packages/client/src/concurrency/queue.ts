/**
 * Queue: a FIFO work queue on a prefix, like etcd's `recipes.Queue`. Items are keys `<prefix>/<unique>`;
 * the oldest (lowest create revision) is dequeued by deleting it in a txn that checks it is still there, so
 * each item goes to exactly one consumer.
 */
import type { Bytes } from "../bytes.js";
import type { EtcdClient } from "../client.js";
import type { CallSettings } from "../connection.js";
import { CanceledError } from "../errors.js";
import type { RangeOptions } from "../kv.js";
import { Cmp, Op } from "../txn.js";
import { createUnique, waitForPut } from "./unique-key.js";

/** Queue is a FIFO queue under a prefix. */
export class Queue {
  readonly client: EtcdClient;
  /** prefix is `<name>/`. */
  readonly prefix: string;
  /** order is how the next item is picked (by create revision for FIFO). */
  protected readonly order: Pick<RangeOptions, "sortBy" | "sortOrder"> = {
    sortBy: "create",
    sortOrder: "ascend",
  };

  constructor(client: EtcdClient, name: string) {
    this.client = client;
    this.prefix = name.endsWith("/") ? name : `${name}/`;
  }

  /** enqueue adds an item. */
  async enqueue(value: Bytes, settings?: CallSettings): Promise<void> {
    await createUnique(this.client, this.prefix, value, settings);
  }

  /** dequeue takes the next item, waiting for one if the queue is empty. */
  async dequeue(settings: CallSettings = {}): Promise<Uint8Array> {
    return this.take(this.prefix, settings);
  }

  /** dequeueString is dequeue decoded as UTF-8. */
  async dequeueString(settings?: CallSettings): Promise<string> {
    return new TextDecoder().decode(await this.dequeue(settings));
  }

  /** length counts the items. */
  async length(settings?: CallSettings): Promise<number> {
    return (await this.client.get(this.prefix, { ...settings, prefix: true, countOnly: true })).count;
  }

  protected async take(prefix: string, settings: CallSettings): Promise<Uint8Array> {
    for (;;) {
      if (settings.signal?.aborted)
        throw new CanceledError("context canceled", { cause: settings.signal.reason });
      const head = await this.client.get(prefix, { ...settings, prefix: true, limit: 1, ...this.order });
      const item = head.kvs[0];
      if (item === undefined) {
        await waitForPut(this.client, prefix, head.header.revision, settings);
        continue;
      }
      const claim = await this.client
        .txn()
        .if(Cmp.modRevision(item.key, "==", item.modRevision))
        .onSuccess(Op.delete(item.key))
        .commit(settings);
      if (claim.succeeded) return item.value;
    }
  }
}

/**
 * PriorityQueue: like {@link Queue}, but items carry a priority 0..65535 and the lowest number comes out first
 * (FIFO among equal priorities). Keys are `<prefix>/<priority as 4 hex digits>/<unique>`, so key order is
 * priority order.
 */
export class PriorityQueue extends Queue {
  protected override readonly order: Pick<RangeOptions, "sortBy" | "sortOrder"> = {
    sortBy: "key",
    sortOrder: "ascend",
  };

  /** enqueue adds an item with a priority (0 = most urgent). */
  override async enqueue(value: Bytes, settings?: CallSettings & { priority?: number }): Promise<void> {
    const priority = settings?.priority ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff) {
      throw new RangeError("etcd-ts client: priority must be an integer in 0..65535");
    }
    const { priority: _, ...rest } = settings ?? {};
    await createUnique(this.client, `${this.prefix}${priority.toString(16).padStart(4, "0")}/`, value, rest);
  }
}
