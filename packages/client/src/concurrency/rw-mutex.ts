/**
 * RWMutex: a readers-writer lock on a prefix, like etcd's `recipes.RWMutex`. Readers create
 * `<name>/read/<lease hex>`, writers `<name>/write/<lease hex>`; a reader waits for every earlier writer, a
 * writer for every earlier reader and writer (order by create revision).
 */
import type { CallSettings } from "../connection.js";
import { Cmp, Op } from "../txn.js";
import { CallBudget } from "./call-budget.js";
import type { Session } from "./session.js";
import { waitDeletes } from "./wait-deletes.js";

/** RWMutex is one session's handle on a readers-writer lock. */
export class RWMutex {
  readonly session: Session;
  readonly prefix: string;
  private heldKey: string | undefined;

  constructor(session: Session, name: string) {
    this.session = session;
    this.prefix = name.endsWith("/") ? name : `${name}/`;
  }

  /** rLock takes a shared (read) lock and returns its key's create revision. */
  async rLock(settings: CallSettings = {}): Promise<bigint> {
    const key = `${this.prefix}read/${this.session.leaseHex}`;
    const budget = new CallBudget(settings);
    const revision = await this.enqueue(key, budget.unbounded());
    await this.waitOrAbandon(key, `${this.prefix}write/`, revision, budget);
    this.heldKey = key;
    return revision;
  }

  /** lock takes the exclusive (write) lock and returns its key's create revision. */
  async lock(settings: CallSettings = {}): Promise<bigint> {
    const key = `${this.prefix}write/${this.session.leaseHex}`;
    const budget = new CallBudget(settings);
    const revision = await this.enqueue(key, budget.unbounded());
    await this.waitOrAbandon(key, this.prefix, revision, budget);
    this.heldKey = key;
    return revision;
  }

  /** rUnlock releases a read lock. */
  async rUnlock(settings?: CallSettings): Promise<void> {
    await this.release(settings);
  }

  /** unlock releases the write lock. */
  async unlock(settings?: CallSettings): Promise<void> {
    await this.release(settings);
  }

  private async release(settings?: CallSettings): Promise<void> {
    if (this.heldKey === undefined) return;
    await this.session.client.delete(this.heldKey, settings);
    this.heldKey = undefined;
  }

  private async enqueue(key: string, settings: CallSettings): Promise<bigint> {
    const result = await this.session.client
      .txn()
      .if(Cmp.createRevision(key, "==", 0))
      .onSuccess(Op.put(key, "", { lease: this.session.leaseId }))
      .onFailure(Op.get(key))
      .commit(settings);
    const existing = result.results[0];
    if (!result.succeeded && existing?.kind === "get" && existing.result.kvs[0] !== undefined) {
      return existing.result.kvs[0].createRevision;
    }
    return result.header.revision;
  }

  private async waitOrAbandon(
    key: string,
    blockers: string,
    revision: bigint,
    budget: CallBudget,
  ): Promise<void> {
    try {
      await waitDeletes(this.session.client, blockers, revision - 1n, budget.remaining());
    } catch (err) {
      await this.session.client.delete(key, { timeoutMs: 5_000 }).catch(() => {});
      throw err;
    }
  }
}
