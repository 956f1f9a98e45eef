/**
 * Election: leader election on a prefix, compatible with etcd's `concurrency.Election` (and `etcdctl elect`):
 * each candidate creates `<name>/<lease hex>` holding its proposal; the lowest create revision leads. The
 * leader's value is its proclamation; observers see every change of leader or value.
 */
import type { Bytes } from "../bytes.js";
import type { CallSettings } from "../connection.js";
import { NoElectionLeaderError, NotLeaderOfElectionError, SessionExpiredError } from "../errors.js";
import type { KeyValue } from "../key-value.js";
import type { RangeResult } from "../kv.js";
import { Cmp, Op } from "../txn.js";
import { CallBudget } from "./call-budget.js";
import type { Session } from "./session.js";
import { waitDeletes } from "./wait-deletes.js";

/** LeaderKey identifies a won election: the leader's key, its create revision and lease. */
export interface LeaderKey {
  name: string;
  key: string;
  /** revision is the key's create revision (a fencing token like a lock's). */
  revision: bigint;
  leaseId: bigint;
}

/** Election is one session's handle on the election `name`. */
export class Election {
  readonly session: Session;
  /** prefix is `<name>/`. */
  readonly prefix: string;
  /** key is this session's candidate key. */
  readonly key: string;
  private leaderRevision = 0n;

  constructor(session: Session, name: string) {
    this.session = session;
    this.prefix = name.endsWith("/") ? name : `${name}/`;
    this.key = `${this.prefix}${session.leaseHex}`;
  }

  /** isLeader is true after a won campaign until resign (as far as this handle knows). */
  get isLeader(): boolean {
    return this.leaderRevision !== 0n;
  }

  /**
   * campaign enters the election with `value` and waits until elected. On timeout or abort the candidacy is
   * withdrawn and the call rejects.
   */
  async campaign(value: Bytes, settings: CallSettings = {}): Promise<LeaderKey> {
    if (!this.session.alive) throw new SessionExpiredError();
    const client = this.session.client;
    const budget = new CallBudget(settings);
    const result = await client
      .txn()
      .if(Cmp.createRevision(this.key, "==", 0))
      .onSuccess(Op.put(this.key, value, { lease: this.session.leaseId }))
      .onFailure(Op.get(this.key))
      .commit(budget.unbounded());
    let myRevision = result.header.revision;
    let mine: RangeResult;
    try {
      if (!result.succeeded) {
        const existing = result.results[0];
        if (existing?.kind === "get" && existing.result.kvs[0] !== undefined) {
          myRevision = existing.result.kvs[0].createRevision;
          await client.put(this.key, value, { ...budget.remaining(), lease: this.session.leaseId });
        }
      }
      await waitDeletes(client, this.prefix, myRevision - 1n, budget.remaining());
      mine = await client.get(this.key, budget.remaining());
    } catch (err) {
      await this.withdraw(myRevision);
      throw err;
    }
    if (mine.kvs[0]?.createRevision !== myRevision) throw new SessionExpiredError();
    this.leaderRevision = myRevision;
    return { name: this.prefix, key: this.key, revision: myRevision, leaseId: this.session.leaseId };
  }

  /** proclaim changes the leader's value; it rejects with NotLeaderOfElectionError when not leading. */
  async proclaim(value: Bytes, settings?: CallSettings): Promise<void> {
    if (this.leaderRevision === 0n) throw new NotLeaderOfElectionError();
    const result = await this.session.client
      .txn()
      .if(Cmp.createRevision(this.key, "==", this.leaderRevision))
      .onSuccess(Op.put(this.key, value, { lease: this.session.leaseId }))
      .commit(settings);
    if (!result.succeeded) {
      this.leaderRevision = 0n;
      throw new NotLeaderOfElectionError();
    }
  }

  /** resign gives up leadership (the next candidate takes over). */
  async resign(settings?: CallSettings): Promise<void> {
    if (this.leaderRevision === 0n) return;
    await this.withdraw(this.leaderRevision, settings);
    this.leaderRevision = 0n;
  }

  /** leader reads the current leader's key-value; it rejects with NoElectionLeaderError when there is none. */
  async leader(settings?: CallSettings): Promise<KeyValue> {
    const result = await this.session.client.get(this.prefix, {
      ...settings,
      prefix: true,
      sortBy: "create",
      sortOrder: "ascend",
      limit: 1,
    });
    const kv = result.kvs[0];
    if (kv === undefined) throw new NoElectionLeaderError();
    return kv;
  }

  /**
   * observe yields the leader's key-value each time the leader or its value changes (starting with the
   * current one, once there is a leader), until `signal` aborts.
   */
  async *observe(signal?: AbortSignal): AsyncGenerator<KeyValue> {
    const client = this.session.client;
    let last: KeyValue | undefined;
    const first = await client.get(this.prefix, {
      prefix: true,
      sortBy: "create",
      sortOrder: "ascend",
      limit: 1,
      ...(signal === undefined ? {} : { signal }),
    });
    const watcher = client.watch(this.prefix, {
      prefix: true,
      startRevision: first.header.revision + 1n,
      ...(signal === undefined ? {} : { signal }),
    });
    try {
      let current = first.kvs[0];
      for (;;) {
        if (current !== undefined && !sameLeader(current, last)) {
          last = current;
          yield current;
        }
        // Wait for any change under the prefix, then re-read who leads at that revision.
        const iterator = watcher[Symbol.asyncIterator]();
        const next = await iterator.next();
        if (next.done === true) return;
        const now = await client.get(this.prefix, {
          prefix: true,
          sortBy: "create",
          sortOrder: "ascend",
          limit: 1,
          revision: next.value.kv.modRevision,
        });
        current = now.kvs[0];
      }
    } finally {
      await watcher.cancel();
    }
  }

  private async withdraw(revision: bigint, settings?: CallSettings): Promise<void> {
    try {
      await this.session.client
        .txn()
        .if(Cmp.createRevision(this.key, "==", revision))
        .onSuccess(Op.delete(this.key))
        .commit(settings ?? { timeoutMs: 5_000 });
    } catch (err) {
      if (settings !== undefined) throw err;
    }
  }
}

function sameLeader(a: KeyValue, b: KeyValue | undefined): boolean {
  return b !== undefined && a.createRevision === b.createRevision && a.modRevision === b.modRevision;
}
