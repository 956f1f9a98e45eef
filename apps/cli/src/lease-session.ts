/**
 * LeaseSession: a lease kept alive for as long as a lock or election runs (clientv3's concurrency.Session).
 */
import { Lease } from "@etcd-ts/proto/etcdserverpb";
import { AsyncQueue } from "./async-queue.js";
import type { Session } from "./session.js";

/** LeaseSession grants a lease and renews it a third of the way through each TTL. */
export class LeaseSession {
  /** id is the lease. */
  readonly id: bigint;
  /** lost resolves if the lease could not be kept alive. */
  readonly lost: Promise<void>;
  private readonly session: Session;
  private readonly abort = new AbortController();
  private readonly requests = new AsyncQueue<{ ID: bigint }>();

  private constructor(session: Session, id: bigint, ttlSeconds: bigint) {
    this.session = session;
    this.id = id;
    this.lost = this.keepAlive(ttlSeconds);
  }

  /** open grants a lease with `ttlSeconds` and starts renewing it. */
  static async open(session: Session, ttlSeconds: bigint): Promise<LeaseSession> {
    const r = await session.unary((ep, call) =>
      ep.client(Lease).leaseGrant({ TTL: ttlSeconds, ID: 0n }, call),
    );
    return new LeaseSession(session, r.ID, r.TTL);
  }

  private async keepAlive(ttlSeconds: bigint): Promise<void> {
    const intervalMs = Math.max(500, (Number(ttlSeconds) * 1000) / 3);
    const timer = setInterval(() => this.requests.push({ ID: this.id }), intervalMs);
    timer.unref();
    try {
      const target = await this.session.streamTarget(this.abort.signal);
      for await (const r of target.endpoint.client(Lease).leaseKeepAlive(this.requests, target.options)) {
        if (r.TTL <= 0n) return;
      }
    } catch {
      if (this.abort.signal.aborted) await new Promise<never>(() => {});
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * close stops renewing. The lease is left to expire, as etcdctl leaves it: revoking it would change what
   * `lease list` and snapshots show compared with etcdctl.
   */
  close(): void {
    this.abort.abort();
    this.requests.close();
  }
}
