/**
 * Leases: grant, revoke, time-to-live, list, and keep-alive. All kept-alive leases of a client share one
 * LeaseKeepAlive stream. Each lease is renewed at a third of its TTL; when the server answers TTL 0 (expired
 * or revoked), or no renewal succeeds before the TTL runs out (the member is unreachable), the keep-alive
 * reports the loss with {@link LeaseLostError} and stops.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Lease, type LeaseKeepAliveRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { AsyncQueue } from "./async-queue.js";
import { backoffMs } from "./backoff.js";
import type { CallSettings, Connection, Endpoint } from "./connection.js";
import { delay } from "./delay.js";
import { TypedEmitter } from "./emitter.js";
import { type EtcdError, LeaseLostError, LeaseNotFoundError, UnavailableError } from "./errors.js";
import { type ResponseHeader, toHeader } from "./key-value.js";

/** LeaseGrant is the answer to a grant. */
export interface LeaseGrant {
  header: ResponseHeader;
  /** id is the lease ID (give it to put's `lease` option). */
  id: bigint;
  /** ttlSeconds is the TTL the server granted (it may raise a small one). */
  ttlSeconds: number;
}

/** LeaseTimeToLive is the answer to timeToLive. */
export interface LeaseTimeToLive {
  header: ResponseHeader;
  id: bigint;
  /** ttlSeconds is the time left (-1: the lease does not exist). */
  ttlSeconds: number;
  /** grantedTtlSeconds is the TTL it was granted with. */
  grantedTtlSeconds: number;
  /** keys attached to the lease (when asked for). */
  keys: Uint8Array[];
}

/** KeepAliveResponse is one successful renewal. */
export interface KeepAliveResponse {
  id: bigint;
  /** ttlSeconds is the TTL the lease was renewed to. */
  ttlSeconds: number;
}

/** KeepAliveEvents are the emitter events of a {@link LeaseKeepAlive}. */
export interface KeepAliveEvents extends Record<string, unknown> {
  /** keepalive: a renewal succeeded. */
  keepalive: KeepAliveResponse;
  /** lost: the lease is gone (the keep-alive has stopped). */
  lost: LeaseLostError;
}

/** Clock is the time source of keep-alive scheduling (injectable for tests). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** systemClock is the real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** RESEND_MS bounds the wait before re-sending a renewal that got no answer. */
const RESEND_MS = 1_000;

/**
 * LeaseKeepAlive keeps one lease alive until stopped or lost. `lost` resolves with the error when the lease is
 * lost (it never resolves if stop() comes first).
 */
export class LeaseKeepAlive extends TypedEmitter<KeepAliveEvents> {
  readonly id: bigint;
  /** lost resolves when the lease is lost. */
  readonly lost: Promise<LeaseLostError>;
  private resolveLost!: (err: LeaseLostError) => void;
  private stopped = false;
  private timer: unknown;
  private nextSendAt: number;
  /** deadlineAt is when the lease expires unless renewed (Infinity until the first answer). */
  private deadlineAt: number;
  private ttlSeconds = 0;
  private readonly manager: KeepAliveManager;
  private readonly clock: Clock;

  constructor(manager: KeepAliveManager, id: bigint, clock: Clock, ttlSeconds?: number) {
    super();
    this.manager = manager;
    this.id = id;
    this.clock = clock;
    this.nextSendAt = clock.now();
    this.deadlineAt = ttlSeconds === undefined ? Number.POSITIVE_INFINITY : clock.now() + ttlSeconds * 1000;
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
  }

  /** active is true until stopped or lost. */
  get active(): boolean {
    return !this.stopped;
  }

  /** lastTtlSeconds is the TTL of the last renewal (0 before the first). */
  get lastTtlSeconds(): number {
    return this.ttlSeconds;
  }

  /** stop ends the keep-alive (the lease then expires after its TTL unless revoked). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.manager.remove(this);
  }

  /** start schedules the first renewal (now). */
  start(): void {
    this.schedule();
  }

  /** onResponse is called for every answer about this lease. */
  onResponse(ttlSeconds: number): void {
    if (this.stopped) return;
    if (ttlSeconds <= 0) {
      this.lose("the server no longer knows it (expired or revoked)");
      return;
    }
    const now = this.clock.now();
    this.ttlSeconds = ttlSeconds;
    this.deadlineAt = now + ttlSeconds * 1000;
    this.nextSendAt = now + (ttlSeconds * 1000) / 3;
    this.schedule();
    this.emit("keepalive", { id: this.id, ttlSeconds });
  }

  /** lose stops the keep-alive and reports the loss. */
  lose(why: string): void {
    if (this.stopped) return;
    const err = new LeaseLostError(this.id, why);
    this.stop();
    this.resolveLost(err);
    this.emit("lost", err);
  }

  private schedule(): void {
    this.clock.clearTimeout(this.timer);
    const now = this.clock.now();
    const at = Math.min(this.nextSendAt, this.deadlineAt);
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - now));
  }

  private fire(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    if (now >= this.deadlineAt) {
      this.lose("no keep-alive succeeded within its TTL");
      return;
    }
    this.manager.send(this.id);
    this.nextSendAt =
      now + Math.min(RESEND_MS, this.ttlSeconds > 0 ? (this.ttlSeconds * 1000) / 3 : RESEND_MS);
    this.schedule();
  }
}

type KeepAliveRequestInit = MessageInitShape<typeof LeaseKeepAliveRequestSchema>;

/** KeepAliveManager multiplexes every kept-alive lease over one LeaseKeepAlive stream. */
export class KeepAliveManager {
  private readonly byId = new Map<bigint, Set<LeaseKeepAlive>>();
  private requests: AsyncQueue<KeepAliveRequestInit> | undefined;
  private abort: AbortController | undefined;
  private running = false;
  private readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  /** add starts keeping `keepAlive`'s lease alive. */
  add(keepAlive: LeaseKeepAlive): void {
    let set = this.byId.get(keepAlive.id);
    if (set === undefined) {
      set = new Set();
      this.byId.set(keepAlive.id, set);
    }
    set.add(keepAlive);
    if (!this.running && this.connection.fullDuplex) {
      this.running = true;
      void this.run();
    }
    keepAlive.start();
  }

  /** remove stops renewing for `keepAlive` (the stream closes when nothing is left). */
  remove(keepAlive: LeaseKeepAlive): void {
    const set = this.byId.get(keepAlive.id);
    set?.delete(keepAlive);
    if (set !== undefined && set.size === 0) this.byId.delete(keepAlive.id);
    if (this.byId.size === 0) this.abort?.abort();
  }

  /** send queues a renewal of lease `id` on the stream (dropped while the stream is being re-opened). */
  send(id: bigint): void {
    if (!this.connection.fullDuplex) {
      void this.sendAlone(id);
      return;
    }
    this.requests?.push({ ID: id });
  }

  /** sendAlone renews over a one-request stream: the half-duplex (browser) path. */
  private async sendAlone(id: bigint): Promise<void> {
    try {
      const response = await this.connection.unary(
        true,
        { timeoutMs: RESEND_MS * 5 },
        async (endpoint, call) => {
          for await (const r of endpoint.client(Lease).leaseKeepAlive(oneRequest(id), call)) return r;
          throw new UnavailableError("etcd-ts client: keep-alive stream ended without an answer");
        },
      );
      for (const keepAlive of [...(this.byId.get(response.ID) ?? [])])
        keepAlive.onResponse(Number(response.TTL));
    } catch {
      // The lease's own deadline reports the loss if renewals keep failing.
    }
  }

  private async run(): Promise<void> {
    for (let attempt = 0; this.byId.size > 0 && !this.connection.closed; ) {
      const abort = new AbortController();
      this.abort = abort;
      const signal = this.connection.linkSignal(abort.signal);
      const requests = new AsyncQueue<KeepAliveRequestInit>();
      let endpoint: Endpoint | undefined;
      let failure: EtcdError;
      try {
        const target = await this.connection.streamTarget(signal);
        endpoint = target.endpoint;
        this.requests = requests;
        for (const id of this.byId.keys()) requests.push({ ID: id });
        const responses = endpoint.client(Lease).leaseKeepAlive(requests, target.options);
        for await (const response of responses) {
          attempt = 0;
          for (const keepAlive of [...(this.byId.get(response.ID) ?? [])])
            keepAlive.onResponse(Number(response.TTL));
        }
        failure = new UnavailableError("etcd-ts client: keep-alive stream ended by the server");
      } catch (thrown) {
        failure = this.connection.classify(thrown, signal, undefined);
      } finally {
        requests.close();
        this.requests = undefined;
        abort.abort();
      }
      if (this.byId.size === 0 || this.connection.closed) break;
      if (endpoint !== undefined) this.connection.streamFailed(endpoint, failure);
      // Leases that cannot be renewed run into their deadline and report the loss themselves.
      await delay(backoffMs(attempt++, this.connection.options.retry), this.connection.closeSignal).catch(
        () => {},
      );
    }
    this.running = false;
    if (this.connection.closed) {
      for (const set of [...this.byId.values()]) for (const keepAlive of [...set]) keepAlive.stop();
    }
  }
}

/** LeaseClient is the Lease API (`client.lease`). */
export class LeaseClient {
  private readonly connection: Connection;
  private readonly keepAlives: KeepAliveManager;
  private readonly clock: Clock;

  constructor(connection: Connection, clock: Clock = systemClock) {
    this.connection = connection;
    this.keepAlives = new KeepAliveManager(connection);
    this.clock = clock;
  }

  /** grant creates a lease of `ttlSeconds` (with a chosen `id`, or 0n / absent for the server's pick). */
  async grant(ttlSeconds: number, options: { id?: bigint } & CallSettings = {}): Promise<LeaseGrant> {
    const response = await this.connection.unary(false, options, (endpoint, call) =>
      endpoint.client(Lease).leaseGrant({ TTL: BigInt(ttlSeconds), ID: options.id ?? 0n }, call),
    );
    if (response.error !== "") throw new UnavailableError(response.error);
    return { header: toHeader(response.header), id: response.ID, ttlSeconds: Number(response.TTL) };
  }

  /** revoke deletes the lease and every key attached to it. */
  async revoke(id: bigint, settings?: CallSettings): Promise<{ header: ResponseHeader }> {
    const response = await this.connection.unary(false, settings, (endpoint, call) =>
      endpoint.client(Lease).leaseRevoke({ ID: id }, call),
    );
    return { header: toHeader(response.header) };
  }

  /** timeToLive tells how long the lease has left (ttlSeconds -1 when it does not exist). */
  async timeToLive(id: bigint, options: { keys?: boolean } & CallSettings = {}): Promise<LeaseTimeToLive> {
    const response = await this.connection.unary(true, options, (endpoint, call) =>
      endpoint.client(Lease).leaseTimeToLive({ ID: id, keys: options.keys ?? false }, call),
    );
    return {
      header: toHeader(response.header),
      id: response.ID,
      ttlSeconds: Number(response.TTL),
      grantedTtlSeconds: Number(response.grantedTTL),
      keys: response.keys,
    };
  }

  /** leases lists the IDs of all leases. */
  async leases(settings?: CallSettings): Promise<bigint[]> {
    const response = await this.connection.unary(true, settings, (endpoint, call) =>
      endpoint.client(Lease).leaseLeases({}, call),
    );
    return response.leases.map((lease) => lease.ID);
  }

  /** keepAliveOnce renews the lease once; it rejects with LeaseNotFoundError when the lease is gone. */
  async keepAliveOnce(id: bigint, settings?: CallSettings): Promise<KeepAliveResponse> {
    const response = await this.connection.unary(true, settings, async (endpoint, call) => {
      for await (const r of endpoint.client(Lease).leaseKeepAlive(oneRequest(id), call)) return r;
      throw new UnavailableError("etcd-ts client: keep-alive stream ended without an answer");
    });
    if (response.TTL <= 0n) throw new LeaseNotFoundError("etcdserver: requested lease not found");
    return { id: response.ID, ttlSeconds: Number(response.TTL) };
  }

  /**
   * keepAlive renews the lease at a third of its TTL until stopped or lost. Pass the granted TTL so a lease
   * that can never be renewed is reported lost when it would have expired.
   */
  keepAlive(id: bigint, options: { ttlSeconds?: number } = {}): LeaseKeepAlive {
    const keepAlive = new LeaseKeepAlive(this.keepAlives, id, this.clock, options.ttlSeconds);
    this.keepAlives.add(keepAlive);
    return keepAlive;
  }
}

async function* oneRequest(id: bigint): AsyncIterable<KeepAliveRequestInit> {
  yield { ID: id };
}
