/**
 * Session: a lease kept alive for as long as the session lives. Locks, elections and ephemeral keys are tied
 * to it: when the process dies (or loses the cluster for longer than the TTL), the lease expires and the
 * server deletes them, which hands locks and leadership to the next in line.
 */
import type { EtcdClient } from "../client.js";
import type { LeaseLostError } from "../errors.js";
import type { LeaseKeepAlive } from "../lease.js";

/** SessionOptions configure a {@link Session}. */
export interface SessionOptions {
  /** ttlSeconds is the lease TTL (default 60): how long after a crash the session's keys survive. */
  ttlSeconds?: number;
  /** leaseId reuses an existing lease instead of granting a new one. */
  leaseId?: bigint;
}

/** Session is a kept-alive lease; create it with `Session.create`. */
export class Session {
  /** client is the client the session was created with. */
  readonly client: EtcdClient;
  /** leaseId is the session's lease. */
  readonly leaseId: bigint;
  /** ttlSeconds is the lease TTL. */
  readonly ttlSeconds: number;
  /** done resolves when the session ends: closed, orphaned, or its lease lost (then with the error). */
  readonly done: Promise<LeaseLostError | undefined>;
  private readonly keepAlive: LeaseKeepAlive;
  private resolveDone!: (err: LeaseLostError | undefined) => void;
  private ended = false;

  private constructor(client: EtcdClient, leaseId: bigint, ttlSeconds: number) {
    this.client = client;
    this.leaseId = leaseId;
    this.ttlSeconds = ttlSeconds;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.keepAlive = client.lease.keepAlive(leaseId, { ttlSeconds });
    void this.keepAlive.lost.then((err) => this.end(err));
  }

  /** create grants (or adopts) the lease and starts keeping it alive. */
  static async create(client: EtcdClient, options: SessionOptions = {}): Promise<Session> {
    const ttlSeconds = options.ttlSeconds ?? 60;
    if (options.leaseId !== undefined) return new Session(client, options.leaseId, ttlSeconds);
    const grant = await client.lease.grant(ttlSeconds);
    return new Session(client, grant.id, grant.ttlSeconds);
  }

  /** alive is true until the session ended. */
  get alive(): boolean {
    return !this.ended;
  }

  /** leaseHex is the lease ID in hex, as etcd's recipes name keys. */
  get leaseHex(): string {
    return this.leaseId.toString(16);
  }

  /** orphan stops the keep-alive without revoking the lease (its keys live until the TTL runs out). */
  orphan(): void {
    this.keepAlive.stop();
    this.end(undefined);
  }

  /** close stops the keep-alive and revokes the lease, deleting the session's keys at once. */
  async close(): Promise<void> {
    this.orphan();
    try {
      await this.client.lease.revoke(this.leaseId, { timeoutMs: this.ttlSeconds * 1000 });
    } catch {
      // Already gone, or unreachable: the lease expires on its own.
    }
  }

  private end(err: LeaseLostError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.resolveDone(err);
  }
}
