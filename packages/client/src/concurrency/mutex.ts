/**
 * Mutex: a distributed lock held by a {@link Session}, compatible with etcd's `concurrency.Mutex` (and
 * `etcdctl lock`): each contender creates `<name>/<lease hex>`; the one with the lowest create revision holds
 * the lock, the others wait for their predecessor's key to go.
 *
 * A lease-based lock cannot by itself guarantee mutual exclusion (a paused holder may outlive its lease).
 * `lock()` therefore returns the lock key's create revision as a **fencing token**: it grows with every
 * acquisition, so a resource that remembers the highest token it saw can reject a stale holder; and
 * {@link Mutex.ownerCompare} guards writes to etcd itself inside a txn.
 */

import type { CallSettings } from "../connection.js";
import { LockedError, SessionExpiredError } from "../errors.js";
import type { RangeResult } from "../kv.js";
import { Cmp, type Compare, Op } from "../txn.js";
import { CallBudget } from "./call-budget.js";
import type { Session } from "./session.js";
import { waitDeletes } from "./wait-deletes.js";

/** Mutex is one session's handle on the lock `name`. */
export class Mutex {
  readonly session: Session;
  /** prefix is `<name>/`. */
  readonly prefix: string;
  /** key is this session's contender key, `<name>/<lease hex>`. */
  readonly key: string;
  private revision = 0n;

  constructor(session: Session, name: string) {
    this.session = session;
    this.prefix = name.endsWith("/") ? name : `${name}/`;
    this.key = `${this.prefix}${session.leaseHex}`;
  }

  /** fencingToken is the create revision of the held lock key (0n when not held). */
  get fencingToken(): bigint {
    return this.revision;
  }

  /**
   * lock waits until this session holds the lock and returns the fencing token. On timeout or abort the
   * contender key is removed again and the call rejects (DeadlineExceededError / CanceledError); the one txn
   * that creates the key always runs to its end first, so there is never a key we do not know about.
   */
  async lock(settings: CallSettings = {}): Promise<bigint> {
    const client = this.session.client;
    const budget = new CallBudget(settings);
    const { myRevision, ownerRevision } = await this.enqueue(budget.unbounded());
    let mine: RangeResult;
    try {
      if (ownerRevision !== myRevision) {
        await waitDeletes(client, this.prefix, myRevision - 1n, budget.remaining());
      }
      // The session may have expired while we waited (then our key is gone and someone else may hold it).
      mine = await client.get(this.key, budget.remaining());
    } catch (err) {
      await this.abandon(myRevision);
      throw err;
    }
    if (mine.kvs[0]?.createRevision !== myRevision) {
      this.revision = 0n;
      throw new SessionExpiredError();
    }
    this.revision = myRevision;
    return myRevision;
  }

  /** tryLock takes the lock if it is free and returns the fencing token; otherwise it rejects with LockedError. */
  async tryLock(settings: CallSettings = {}): Promise<bigint> {
    const budget = new CallBudget(settings);
    const { myRevision, ownerRevision } = await this.enqueue(budget.unbounded());
    if (ownerRevision !== myRevision) {
      await this.abandon(myRevision);
      throw new LockedError();
    }
    this.revision = myRevision;
    return myRevision;
  }

  /** unlock releases the lock (deleting the contender key). */
  async unlock(settings?: CallSettings): Promise<void> {
    await this.session.client.delete(this.key, settings);
    this.revision = 0n;
  }

  /** ownerCompare is a txn compare that holds only while this session still holds the lock. */
  ownerCompare(): Compare {
    return Cmp.createRevision(this.key, "==", this.revision);
  }

  /** isOwner asks the server whether this session holds the lock now. */
  async isOwner(settings?: CallSettings): Promise<boolean> {
    if (this.revision === 0n) return false;
    const owner = await this.session.client.get(this.prefix, {
      ...settings,
      prefix: true,
      sortBy: "create",
      sortOrder: "ascend",
      limit: 1,
    });
    return owner.kvs[0]?.createRevision === this.revision;
  }

  /** enqueue creates (or finds, for a re-entrant call) our key and reads the current owner in one txn. */
  private async enqueue(settings: CallSettings): Promise<{ myRevision: bigint; ownerRevision: bigint }> {
    if (!this.session.alive) throw new SessionExpiredError();
    const getOwner = Op.get(this.prefix, { prefix: true, sortBy: "create", sortOrder: "ascend", limit: 1 });
    const result = await this.session.client
      .txn()
      .if(Cmp.createRevision(this.key, "==", 0))
      .onSuccess(Op.put(this.key, "", { lease: this.session.leaseId }), getOwner)
      .onFailure(Op.get(this.key), getOwner)
      .commit(settings);
    let myRevision = result.header.revision;
    if (!result.succeeded) {
      const mine = result.results[0];
      if (mine?.kind === "get" && mine.result.kvs[0] !== undefined)
        myRevision = mine.result.kvs[0].createRevision;
    }
    const owner = result.results[1];
    const ownerRevision =
      owner?.kind === "get" && owner.result.kvs[0] !== undefined
        ? owner.result.kvs[0].createRevision
        : myRevision;
    return { myRevision, ownerRevision };
  }

  /** abandon deletes our contender key if it is still the one we created. */
  private async abandon(myRevision: bigint): Promise<void> {
    try {
      await this.session.client
        .txn()
        .if(Cmp.createRevision(this.key, "==", myRevision))
        .onSuccess(Op.delete(this.key))
        .commit({ timeoutMs: 5_000 });
    } catch {
      // The session's lease removes it eventually.
    }
  }
}
