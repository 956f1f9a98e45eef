import { assert } from "./assert.js";
import type { Clock } from "./clock.js";
import { LeaseExistsError, LeaseNotFoundError, NotPrimaryError } from "./errors.js";
import { keyBytes, keyString } from "./key-string.js";
import type { LeaseBatch, LeaseReader } from "./lease-backend.js";
import type { LeaseId } from "./lease-id.js";
import { deriveLeaseId, leaseId, NO_LEASE } from "./lease-id.js";
import { LeaseQueue } from "./lease-queue.js";
import { decodeLeaseRecord, encodeLeaseKey, encodeLeaseValue } from "./lease-record.js";
import { grantTtlSeconds } from "./lease-ttl.js";
import { RateLimiter } from "./rate-limiter.js";

/** DEFAULT_MAX_REVOKES_PER_SECOND is etcd's bound on how fast the leader revokes expired leases. */
export const DEFAULT_MAX_REVOKES_PER_SECOND = 1000;
/** DEFAULT_EXPIRED_RETRY_MS: an expired lease handed out for revoke is handed out again after this long. */
export const DEFAULT_EXPIRED_RETRY_MS = 3000;
/** DEFAULT_CHECKPOINT_INTERVAL_MS is etcd's lease checkpoint interval (5 minutes). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;
/** DEFAULT_MAX_CHECKPOINTS_PER_BATCH bounds one LeaseCheckpointRequest, as etcd does. */
export const DEFAULT_MAX_CHECKPOINTS_PER_BATCH = 1000;

// Stale queue items are dropped in one O(n) pass once they outnumber live ones by this much.
const QUEUE_COMPACTION_SLACK = 1024;
// Candidates tried for a grant with id 0 before giving up (each is a fresh pseudo-random int63, so hitting
// even two used ids in a row means something is very wrong).
const MAX_ID_ATTEMPTS = 2048;

/** LessorConfig configures a {@link Lessor}. Only `clock` and `minTtlSeconds` are required. */
export interface LessorConfig {
  /** clock tells the lessor the time; no other source of time is used. */
  readonly clock: Clock;
  /** minTtlSeconds: grants below it are raised to it. Use `minLeaseTtlSeconds(electionTimeoutMs)`. */
  readonly minTtlSeconds: number;
  /** maxRevokesPerSecond bounds how many expired leases `findExpired` hands out per second (default 1000). */
  readonly maxRevokesPerSecond?: number;
  /** expiredRetryMs: how long a handed-out expired lease waits before it is handed out again (default 3 s). */
  readonly expiredRetryMs?: number;
  /** checkpointing: whether the primary asks for checkpoints of remaining TTLs (default true). */
  readonly checkpointing?: boolean;
  /** checkpointIntervalMs: how often each long lease is checkpointed (default 5 min). */
  readonly checkpointIntervalMs?: number;
  /** maxCheckpointsPerBatch bounds what one `findDueCheckpoints` call returns (default 1000). */
  readonly maxCheckpointsPerBatch?: number;
}

/** GrantRequest is a LeaseGrant as the apply path sees it. */
export interface GrantRequest {
  /** id: the requested id, or 0 to have the lessor derive one from `raftIndex`. */
  readonly id: bigint;
  /** ttlSeconds: the requested TTL (the wire int64, or a number). */
  readonly ttlSeconds: number | bigint;
  /** raftIndex: the index of the entry being applied; required when `id` is 0. */
  readonly raftIndex?: number;
}

/** LeaseInfo is a snapshot of one lease's state. */
export interface LeaseInfo {
  readonly id: LeaseId;
  /** ttlSeconds is the granted TTL (after raising it to the minimum). */
  readonly ttlSeconds: number;
  /** remainingTtlSeconds is the last checkpointed remaining TTL, 0 if none. */
  readonly remainingTtlSeconds: number;
  /** expiryMs is the deadline on the injected clock; undefined unless this lessor is primary. */
  readonly expiryMs: number | undefined;
  /** keys are the attached keys in byte order. */
  readonly keys: readonly Uint8Array[];
}

/** TimeToLive answers LeaseTimeToLive. An unknown lease has `ttlSeconds` -1, as etcd replies. */
export interface TimeToLive {
  readonly id: bigint;
  /** ttlSeconds is the remaining TTL, whole seconds rounded down; -1 if the lease does not exist. */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  /** keys are the attached keys in byte order, when asked for. */
  readonly keys: readonly Uint8Array[];
}

/** LeaseCheckpoint is one lease's remaining TTL, to be proposed through raft in a LeaseCheckpointRequest. */
export interface LeaseCheckpoint {
  readonly id: LeaseId;
  readonly remainingTtlSeconds: number;
}

/** RenewResult answers a keep-alive. */
export interface RenewResult {
  readonly id: bigint;
  /** ttlSeconds is the granted TTL the lease was renewed to; 0 from `keepAlive` when the lease is unknown. */
  readonly ttlSeconds: number;
  /**
   * checkpoint, when set, is a reset (remaining TTL 0) the server must propose through raft and see applied
   * BEFORE answering the client (and answer an error if the proposal fails): followers hold, or may still
   * receive, an older checkpoint for this lease, and a new leader would otherwise restore that shorter TTL
   * and expire a lease the client was just told is alive.
   */
  readonly checkpoint: LeaseCheckpoint | undefined;
}

/**
 * RangeDeleter is what the lessor needs from mvcc: delete all these keys in ONE revision, inside the write
 * the caller is applying (the same backend batch). Declared here so that the lessor does not import mvcc;
 * the server implements it over mvcc, e.g. `{ deleteKeys: (keys) => kv.deleteKeys(keys, batch) }`.
 *
 * Whatever `deleteKeys` returns (`R`: nothing, or mvcc's promise of a pending write) is passed back in
 * {@link RevokeResult.deletion} for the caller to await and commit; the lessor does not look at it. The
 * lessor has already forgotten the keys when mvcc reports their lease changes, so the server may pass those
 * to {@link Lessor.recordDelete} as usual (or not at all): it is a no-op.
 */
export interface RangeDeleter<R = void> {
  deleteKeys(keys: readonly Uint8Array[]): R;
}

/** RevokeResult reports what a revoke removed. */
export interface RevokeResult<R = void> {
  readonly id: LeaseId;
  /** deletedKeys were handed to the {@link RangeDeleter}, in byte order. */
  readonly deletedKeys: readonly Uint8Array[];
  /** deletion is what the deleter returned; undefined when the lease had no keys (no deleter call). */
  readonly deletion: R | undefined;
}

interface Lease {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  /** Last checkpointed remaining TTL; 0 = none (never checkpointed, or reset by a renew). */
  remainingTtlSeconds: number;
  /** Deadline on the clock. Infinity unless primary: only the primary's deadlines mean anything. */
  expiryMs: number;
  /** Token of this lease's live item in the expiry queue; 0 = none. */
  expiryToken: number;
  /** Token of this lease's live item in the checkpoint queue; 0 = none. */
  checkpointToken: number;
  // What the primary has handed out for this lease this term, to know whether followers may still end up
  // with a checkpoint older than a renew (see renew). Reset on promote and demote.
  /** A periodic checkpoint was handed out after the last reset was (or since promotion). */
  periodicSinceReset: boolean;
  /** Resets handed out, and resets applied, this term. Equal when none is in flight (or all were lost). */
  resetsHandedOut: number;
  resetsApplied: number;
  /** Attached keys, as {@link keyString}s. Invariant: k in keys <=> keyToLease.get(k) === id. */
  readonly keys: Set<string>;
}

/**
 * Lessor owns the leases of one member. It is a synchronous state machine driven from outside:
 *
 * - The apply path (every member, in log order) calls {@link grant}, {@link revoke}, {@link checkpoint}
 *   with the entry's backend batch, and {@link recordPut} / {@link recordDelete} (or attach / detach) as mvcc
 *   puts and deletes keys. These produce the same result on every member.
 * - The raft leader's member is the primary ({@link promote}); only it knows deadlines, renews
 *   ({@link renew}), and hands out expired leases ({@link findExpired}) and due checkpoints
 *   ({@link findDueCheckpoints}) for the server to propose through raft. Nothing is ever deleted locally
 *   because it expired.
 *
 * Time comes only from the injected clock; the lessor starts no timers (see `LessorDriver`).
 *
 * Apply methods change the in-memory state at once and only add operations to the caller's batch; if that
 * batch then fails to be written, the member must stop (not retry), as for any failed apply. Recovery
 * rebuilds the state from what was written.
 */
export class Lessor {
  private readonly clock: Clock;
  private readonly minTtl: number;
  private readonly expiredRetryMs: number;
  private readonly checkpointing: boolean;
  private readonly checkpointIntervalMs: number;
  private readonly maxCheckpointsPerBatch: number;
  private readonly maxRevokesPerSecond: number;
  private readonly revokeLimiter: RateLimiter;

  private leaseMap = new Map<LeaseId, Lease>();
  private keyToLease = new Map<string, LeaseId>();
  private primary = false;
  private readonly expiryQueue = new LeaseQueue();
  private readonly checkpointQueue = new LeaseQueue();
  private lastToken = 0;

  constructor(config: LessorConfig) {
    this.clock = config.clock;
    this.minTtl = config.minTtlSeconds;
    this.maxRevokesPerSecond = config.maxRevokesPerSecond ?? DEFAULT_MAX_REVOKES_PER_SECOND;
    this.expiredRetryMs = config.expiredRetryMs ?? DEFAULT_EXPIRED_RETRY_MS;
    this.checkpointing = config.checkpointing ?? true;
    this.checkpointIntervalMs = config.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.maxCheckpointsPerBatch = config.maxCheckpointsPerBatch ?? DEFAULT_MAX_CHECKPOINTS_PER_BATCH;
    assert(Number.isSafeInteger(this.minTtl) && this.minTtl >= 1, `bad minimum TTL ${this.minTtl}`);
    assert(this.expiredRetryMs > 0, `bad expired retry interval ${this.expiredRetryMs}`);
    assert(this.checkpointIntervalMs > 0, `bad checkpoint interval ${this.checkpointIntervalMs}`);
    assert(this.maxCheckpointsPerBatch >= 1, `bad checkpoint batch bound ${this.maxCheckpointsPerBatch}`);
    this.revokeLimiter = new RateLimiter(this.clock, this.maxRevokesPerSecond);
  }

  /**
   * open builds a lessor and recovers it from the backend (see {@link recover}). It starts as a follower;
   * call {@link promote} when this member leads.
   */
  static async open(reader: LeaseReader, config: LessorConfig): Promise<Lessor> {
    const lessor = new Lessor(config);
    await lessor.recover(reader);
    return lessor;
  }

  /**
   * recover replaces all state with the leases stored in the backend (after a restart, or after the
   * backend was replaced by a raft snapshot). Key attachments are not stored by the lessor: the server
   * re-attaches every key with a lease from mvcc through {@link attach}. The lessor becomes a follower;
   * deadlines are restored by {@link promote} from each lease's TTL or checkpointed remaining TTL. If
   * reading fails, the state is left as it was.
   */
  async recover(reader: LeaseReader): Promise<void> {
    const leases = new Map<LeaseId, Lease>();
    for await (const [key, value] of reader.entries()) {
      const record = decodeLeaseRecord(key, value);
      assert(!leases.has(record.id), `lease ${record.id} stored twice`);
      leases.set(record.id, this.newLease(record.id, record.ttlSeconds, record.remainingTtlSeconds));
    }
    this.demote();
    this.leaseMap = leases;
    this.keyToLease = new Map();
  }

  /** isPrimary tells whether this lessor decides expiry (its member leads). */
  get isPrimary(): boolean {
    return this.primary;
  }

  /** minTtlSeconds is the TTL short grants are raised to. */
  get minTtlSeconds(): number {
    return this.minTtl;
  }

  /** size is the number of leases. */
  get size(): number {
    return this.leaseMap.size;
  }

  // ---------------------------------------------------------------- apply path (every member, in order)

  /**
   * grant creates a lease and adds its record to `batch`. Throws {@link LeaseExistsError} if the id is in
   * use and `LeaseTtlTooLargeError` above 9e9 seconds; on error nothing changes. A TTL below the minimum is
   * raised to it. With id 0 the id is derived from `raftIndex` (the same on every member). On the primary
   * the lease's deadline starts now.
   */
  grant(batch: LeaseBatch, request: GrantRequest): LeaseInfo {
    const ttlSeconds = grantTtlSeconds(request.ttlSeconds, this.minTtl);
    let id: LeaseId;
    if (request.id === NO_LEASE) {
      assert(request.raftIndex !== undefined, "a grant with id 0 needs the raft index it is applied at");
      id = this.freeLeaseId(request.raftIndex);
    } else {
      id = leaseId(request.id);
      if (this.leaseMap.has(id)) {
        throw new LeaseExistsError();
      }
    }
    const lease = this.newLease(id, ttlSeconds, 0);
    this.leaseMap.set(id, lease);
    if (this.primary) {
      this.setDeadline(lease, this.clock.now() + ttlSeconds * 1000);
      this.scheduleCheckpoint(lease);
    }
    this.persist(batch, lease);
    return this.info(lease);
  }

  /**
   * revoke deletes a lease: its attached keys through `deleter` in one call (one mvcc revision; skipped when
   * there are none), then its record from `batch`. Throws {@link LeaseNotFoundError} for an unknown lease,
   * before changing anything.
   */
  revoke<R = void>(batch: LeaseBatch, id: bigint, deleter: RangeDeleter<R>): RevokeResult<R> {
    const lease = this.leaseMap.get(id as LeaseId);
    if (lease === undefined) {
      throw new LeaseNotFoundError();
    }
    // Copy first: the deleter's mvcc hooks may detach these keys while it runs.
    const names = [...lease.keys].sort();
    const deletedKeys = names.map(keyBytes);
    const deletion = deletedKeys.length > 0 ? deleter.deleteKeys(deletedKeys) : undefined;
    for (const name of names) {
      if (this.keyToLease.get(name) === lease.id) {
        this.keyToLease.delete(name);
      }
    }
    lease.keys.clear();
    this.leaseMap.delete(lease.id);
    // Its queue items are now stale: they name a lease that no longer exists, and a later lease with the
    // same id gets fresh tokens.
    batch.del(encodeLeaseKey(lease.id));
    return { id: lease.id, deletedKeys, deletion };
  }

  /**
   * checkpoint applies one checkpointed remaining TTL (0 = reset by a renew) and persists it, so that a
   * future primary restores it instead of the full TTL. Returns false (and does nothing) for an unknown
   * lease: it may have been revoked after the checkpoint was proposed.
   *
   * The primary keeps its own deadline: it is at least as fresh as any checkpoint, and a checkpoint
   * proposed just before a renew must not cut the renewed lease short.
   */
  checkpoint(batch: LeaseBatch, id: bigint, remainingTtlSeconds: number | bigint): boolean {
    const remaining = Number(remainingTtlSeconds);
    assert(Number.isSafeInteger(remaining) && remaining >= 0, `bad checkpointed TTL ${remainingTtlSeconds}`);
    const lease = this.leaseMap.get(id as LeaseId);
    if (lease === undefined) {
      return false;
    }
    lease.remainingTtlSeconds = remaining;
    if (this.primary && remaining === 0) {
      // Every reset applied while primary is one of ours (see promote), and ours apply in the order they
      // were handed out.
      lease.resetsApplied = Math.min(lease.resetsApplied + 1, lease.resetsHandedOut);
    }
    this.persist(batch, lease);
    return true;
  }

  /**
   * attach records that `key` now carries lease `id`, moving it from any other lease. Throws
   * {@link LeaseNotFoundError} for an unknown lease. Used as mvcc puts keys, and on recovery for every key
   * mvcc reports with a lease.
   */
  attach(id: bigint, key: Uint8Array): void {
    const lease = this.leaseMap.get(id as LeaseId);
    if (lease === undefined) {
      throw new LeaseNotFoundError();
    }
    const name = keyString(key);
    const previous = this.keyToLease.get(name);
    if (previous === lease.id) {
      return;
    }
    if (previous !== undefined) {
      this.leaseMap.get(previous)?.keys.delete(name);
    }
    lease.keys.add(name);
    this.keyToLease.set(name, lease.id);
  }

  /** detach removes `key` from lease `id`. Returns false if the key was not attached to that lease. */
  detach(id: bigint, key: Uint8Array): boolean {
    const name = keyString(key);
    if (this.keyToLease.get(name) !== id) {
      return false;
    }
    this.keyToLease.delete(name);
    this.leaseMap.get(id as LeaseId)?.keys.delete(name);
    return true;
  }

  /**
   * recordPut follows an mvcc put of `key` with lease `lease` (0 = none): it attaches the key, moving it
   * from its previous lease, or detaches it when the put carries no lease. Check that the lease exists
   * before the put ({@link lookup}); an unknown lease throws {@link LeaseNotFoundError}.
   */
  recordPut(key: Uint8Array, lease: bigint): void {
    if (lease === NO_LEASE) {
      this.recordDelete(key);
      return;
    }
    this.attach(lease, key);
  }

  /** recordDelete follows an mvcc delete of `key`: the key leaves whatever lease it had. */
  recordDelete(key: Uint8Array): void {
    const name = keyString(key);
    const previous = this.keyToLease.get(name);
    if (previous !== undefined) {
      this.keyToLease.delete(name);
      this.leaseMap.get(previous)?.keys.delete(name);
    }
  }

  // ---------------------------------------------------------------- primary (leader) only

  /**
   * promote makes this lessor the primary (its member became leader). Every lease gets a fresh deadline of
   * now + `extendMs` + its checkpointed remaining TTL (or its full TTL if never checkpointed), so that a
   * leader change never expires leases early; then deadlines are spread so that no more than 3/4 of the
   * revoke rate fall in any one second. Checkpoints are scheduled anew.
   *
   * Call it once the new leader has applied every entry of earlier terms (in practice: when it applies the
   * first entry of its own term), so that checkpoints proposed by the previous leader are already applied
   * and cannot overwrite what this primary promises afterwards.
   */
  promote(extendMs: number): void {
    assert(Number.isFinite(extendMs) && extendMs >= 0, `bad promotion extension ${extendMs}`);
    this.demote();
    this.primary = true;
    this.revokeLimiter.reset();
    const nowMs = this.clock.now();
    const leases = [...this.leaseMap.values()];
    for (const lease of leases) {
      const seconds = lease.remainingTtlSeconds > 0 ? lease.remainingTtlSeconds : lease.ttlSeconds;
      lease.expiryMs = nowMs + extendMs + seconds * 1000;
    }
    leases.sort((a, b) => a.expiryMs - b.expiryMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const perSecond = Math.max(1, Math.floor((this.maxRevokesPerSecond * 3) / 4));
    const firstMs = leases[0]?.expiryMs ?? nowMs;
    leases.forEach((lease, rank) => {
      this.setDeadline(lease, Math.max(lease.expiryMs, firstMs + Math.floor(rank / perSecond) * 1000));
      this.scheduleCheckpoint(lease);
    });
  }

  /**
   * demote makes this lessor a follower (its member lost leadership, or is stopping): it forgets every
   * deadline, so nothing expires and nothing is renewed here until the next {@link promote}.
   */
  demote(): void {
    this.primary = false;
    for (const lease of this.leaseMap.values()) {
      lease.expiryMs = Number.POSITIVE_INFINITY;
      lease.expiryToken = 0;
      lease.checkpointToken = 0;
      lease.periodicSinceReset = false;
      lease.resetsHandedOut = 0;
      lease.resetsApplied = 0;
    }
    this.expiryQueue.clear();
    this.checkpointQueue.clear();
  }

  /**
   * renew restarts a lease's full TTL (a keep-alive). Throws {@link NotPrimaryError} unless primary, and
   * {@link LeaseNotFoundError} for an unknown lease and for one whose deadline has passed: it is expired and
   * its revoke is on its way, so the client must not be told it is alive. See {@link RenewResult.checkpoint}.
   */
  renew(id: bigint): RenewResult {
    if (!this.primary) {
      throw new NotPrimaryError();
    }
    const lease = this.leaseMap.get(id as LeaseId);
    const nowMs = this.clock.now();
    if (lease === undefined || lease.expiryMs <= nowMs) {
      throw new LeaseNotFoundError();
    }
    this.setDeadline(lease, nowMs + lease.ttlSeconds * 1000);
    let checkpoint: LeaseCheckpoint | undefined;
    if (this.checkpointing && !this.followersSettled(lease)) {
      checkpoint = { id: lease.id, remainingTtlSeconds: 0 };
      lease.resetsHandedOut += 1;
      lease.periodicSinceReset = false;
    }
    this.scheduleCheckpoint(lease);
    return { id: lease.id, ttlSeconds: lease.ttlSeconds, checkpoint };
  }

  /**
   * keepAlive is {@link renew} with etcd's keep-alive answer for a lease that does not exist (or has
   * expired): TTL 0 instead of an error. Still throws {@link NotPrimaryError}.
   */
  keepAlive(id: bigint): RenewResult {
    try {
      return this.renew(id);
    } catch (error) {
      if (error instanceof LeaseNotFoundError) {
        return { id, ttlSeconds: 0, checkpoint: undefined };
      }
      throw error;
    }
  }

  /**
   * findExpired hands out up to `limit` leases whose deadline has passed, earliest first, for the server to
   * revoke through raft. It never deletes anything itself. At most `maxRevokesPerSecond` are handed out per
   * second; a handed-out lease is handed out again after `expiredRetryMs` if its revoke has not been applied
   * by then (the proposal may have been lost). Returns nothing unless primary, so a deposed leader never
   * revokes.
   */
  findExpired(limit: number = this.maxRevokesPerSecond): LeaseId[] {
    if (!this.primary) {
      return [];
    }
    const nowMs = this.clock.now();
    const budget = Math.min(limit, this.revokeLimiter.available());
    const expired: LeaseId[] = [];
    while (expired.length < budget) {
      const top = this.expiryQueue.peek();
      if (top === undefined || top.atMs > nowMs) {
        break;
      }
      this.expiryQueue.pop();
      const lease = this.leaseMap.get(top.id);
      if (lease === undefined || lease.expiryToken !== top.token) {
        continue;
      }
      assert(lease.expiryMs <= nowMs, `lease ${lease.id} queued before its deadline`);
      expired.push(lease.id);
      this.enqueueExpiry(lease, nowMs + this.expiredRetryMs);
    }
    this.revokeLimiter.take(expired.length);
    return expired;
  }

  /**
   * findDueCheckpoints hands out up to `limit` (default `maxCheckpointsPerBatch`) leases whose checkpoint is
   * due, with their remaining TTL rounded up to a second, for the server to propose as one
   * LeaseCheckpointRequest. Each is rescheduled one interval later. Only leases with more than one interval
   * left are checkpointed (a shorter one loses at most its own TTL on a leader change). Returns nothing
   * unless primary with checkpointing on.
   */
  findDueCheckpoints(limit: number = this.maxCheckpointsPerBatch): LeaseCheckpoint[] {
    if (!this.primary || !this.checkpointing) {
      return [];
    }
    const nowMs = this.clock.now();
    const bound = Math.min(limit, this.maxCheckpointsPerBatch);
    const due: LeaseCheckpoint[] = [];
    while (due.length < bound) {
      const top = this.checkpointQueue.peek();
      if (top === undefined || top.atMs > nowMs) {
        break;
      }
      this.checkpointQueue.pop();
      const lease = this.leaseMap.get(top.id);
      if (lease === undefined || lease.checkpointToken !== top.token) {
        continue;
      }
      lease.checkpointToken = 0;
      if (lease.expiryMs <= nowMs) {
        continue; // expired: its revoke is on its way
      }
      due.push({ id: lease.id, remainingTtlSeconds: Math.ceil((lease.expiryMs - nowMs) / 1000) });
      lease.periodicSinceReset = true;
      this.scheduleCheckpoint(lease);
    }
    return due;
  }

  /**
   * nextWakeupMs is the earliest time at which {@link findExpired} or {@link findDueCheckpoints} may have
   * something to hand out, or undefined when nothing is scheduled (or not primary). A driver may sleep
   * until then; items may turn out stale, so waking early is harmless.
   */
  nextWakeupMs(): number | undefined {
    if (!this.primary) {
      return undefined;
    }
    const times = [this.expiryQueue.peek()?.atMs, this.checkpointQueue.peek()?.atMs].filter(
      (t): t is number => t !== undefined,
    );
    return times.length === 0 ? undefined : Math.min(...times);
  }

  // ---------------------------------------------------------------- reads

  /**
   * queuedItems counts the items in the expiry and checkpoint queues, live and stale (for metrics and
   * tests). Stale items are compacted away, so each stays below twice the lease count plus a constant.
   */
  get queuedItems(): { readonly expiry: number; readonly checkpoint: number } {
    return { expiry: this.expiryQueue.size, checkpoint: this.checkpointQueue.size };
  }

  /** lookup returns a lease's state, or undefined if it does not exist. */
  lookup(id: bigint): LeaseInfo | undefined {
    const lease = this.leaseMap.get(id as LeaseId);
    return lease === undefined ? undefined : this.info(lease);
  }

  /** leaseOfKey returns the lease `key` is attached to, if any. */
  leaseOfKey(key: Uint8Array): LeaseId | undefined {
    return this.keyToLease.get(keyString(key));
  }

  /**
   * timeToLive answers LeaseTimeToLive: remaining TTL (whole seconds, rounded down, never below 0 for a
   * lease that still exists), granted TTL, and the attached keys when `keys` is set. An unknown lease gets
   * TTL -1. On a follower the remaining TTL is the checkpointed one (or the full TTL); the server asks the
   * leader for an exact answer.
   */
  timeToLive(id: bigint, options: { readonly keys?: boolean } = {}): TimeToLive {
    const lease = this.leaseMap.get(id as LeaseId);
    if (lease === undefined) {
      return { id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] };
    }
    let remaining: number;
    if (this.primary) {
      remaining = Math.max(0, Math.floor((lease.expiryMs - this.clock.now()) / 1000));
    } else {
      remaining = lease.remainingTtlSeconds > 0 ? lease.remainingTtlSeconds : lease.ttlSeconds;
    }
    const keys = options.keys === true ? sortedKeys(lease) : [];
    return { id, ttlSeconds: remaining, grantedTtlSeconds: lease.ttlSeconds, keys };
  }

  /** leases lists every lease id, in ascending order (LeaseLeases). */
  leases(): LeaseId[] {
    return [...this.leaseMap.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  // ---------------------------------------------------------------- internals

  private newLease(id: LeaseId, ttlSeconds: number, remainingTtlSeconds: number): Lease {
    return {
      id,
      ttlSeconds,
      remainingTtlSeconds,
      expiryMs: Number.POSITIVE_INFINITY,
      expiryToken: 0,
      checkpointToken: 0,
      periodicSinceReset: false,
      resetsHandedOut: 0,
      resetsApplied: 0,
      keys: new Set(),
    };
  }

  /**
   * followersSettled tells whether every member has, or will end up with, remaining TTL 0 for this lease,
   * so that a renew needs no reset. It holds when the applied checkpoint is 0, no periodic checkpoint was
   * handed out after the last reset, and that reset has been applied: this term's proposals apply in the
   * order they were made, so every periodic checkpoint handed out before it has been applied or was lost.
   * Lost proposals leave it false, which only costs extra resets.
   */
  private followersSettled(lease: Lease): boolean {
    return (
      lease.remainingTtlSeconds === 0 &&
      !lease.periodicSinceReset &&
      lease.resetsApplied === lease.resetsHandedOut
    );
  }

  private freeLeaseId(raftIndex: number): LeaseId {
    for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
      const candidate = deriveLeaseId(raftIndex, attempt);
      if (candidate !== undefined && !this.leaseMap.has(candidate)) {
        return candidate;
      }
    }
    assert(false, `no free lease id for raft index ${raftIndex} after ${MAX_ID_ATTEMPTS} attempts`);
  }

  private persist(batch: LeaseBatch, lease: Lease): void {
    batch.put(
      encodeLeaseKey(lease.id),
      encodeLeaseValue({
        id: lease.id,
        ttlSeconds: lease.ttlSeconds,
        remainingTtlSeconds: lease.remainingTtlSeconds,
      }),
    );
  }

  private info(lease: Lease): LeaseInfo {
    return {
      id: lease.id,
      ttlSeconds: lease.ttlSeconds,
      remainingTtlSeconds: lease.remainingTtlSeconds,
      expiryMs: this.primary ? lease.expiryMs : undefined,
      keys: sortedKeys(lease),
    };
  }

  private setDeadline(lease: Lease, expiryMs: number): void {
    assert(this.primary, "only the primary has deadlines");
    lease.expiryMs = expiryMs;
    this.enqueueExpiry(lease, expiryMs);
  }

  private enqueueExpiry(lease: Lease, atMs: number): void {
    lease.expiryToken = this.nextToken();
    this.expiryQueue.push({ atMs, id: lease.id, token: lease.expiryToken });
    if (this.expiryQueue.size > 2 * this.leaseMap.size + QUEUE_COMPACTION_SLACK) {
      this.expiryQueue.retain((item) => this.leaseMap.get(item.id)?.expiryToken === item.token);
    }
  }

  private scheduleCheckpoint(lease: Lease): void {
    if (!this.primary || !this.checkpointing) {
      return;
    }
    const nowMs = this.clock.now();
    if (lease.expiryMs - nowMs <= this.checkpointIntervalMs) {
      lease.checkpointToken = 0;
      return;
    }
    lease.checkpointToken = this.nextToken();
    this.checkpointQueue.push({
      atMs: nowMs + this.checkpointIntervalMs,
      id: lease.id,
      token: lease.checkpointToken,
    });
    if (this.checkpointQueue.size > 2 * this.leaseMap.size + QUEUE_COMPACTION_SLACK) {
      this.checkpointQueue.retain((item) => this.leaseMap.get(item.id)?.checkpointToken === item.token);
    }
  }

  private nextToken(): number {
    this.lastToken += 1;
    return this.lastToken;
  }
}

function sortedKeys(lease: Lease): Uint8Array[] {
  return [...lease.keys].sort().map(keyBytes);
}
