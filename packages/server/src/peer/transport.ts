import { createHash } from "node:crypto";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { MessageBatch, PeerHeader } from "@etcd-ts/proto/internal/peer";
import { Peer } from "@etcd-ts/proto/internal/peer";
import type { Message as WireMessage } from "@etcd-ts/proto/raft";
import { type Message, MessageType } from "@etcd-ts/raft";
import type { Logger } from "pino";
import { assert } from "../assert.js";
import { toWireMessage } from "./message-codec.js";

/** Limits of the peer transport (TigerBeetle style: every queue is bounded). */
export const transportLimits = {
  /** Raft messages queued for one peer; beyond it messages are dropped and the peer reported unreachable. */
  maxQueuedMessages: 4096,
  /** Messages per batch on the stream. */
  maxBatchMessages: 1024,
  /** An idle stream still carries an empty batch this often, so the peer knows we are alive. */
  keepAliveMs: 500,
  /**
   * A stream whose batches have not been taken for this long is abandoned and re-opened. Taking a batch
   * is how the HTTP/2 stream shows it is still writable; a stream can also end without an error and
   * without a response (seen when a peer stopped gracefully), which would otherwise wait forever.
   */
  stallMs: 5000,
  /** A peer not heard from for this long is not active. */
  activeWindowMs: 3000,
  /**
   * Reconnect backoff bounds. The cap is short on purpose: a killed or restarted peer is back within about
   * a second, and every reconnect wait beyond that is time it goes without the leader's heartbeats (a cap
   * of 1 s made half the restarts in the robustness runs miss their 1.5 s recovery budget). A refused
   * connection on loopback or a LAN costs next to nothing.
   */
  minBackoffMs: 50,
  maxBackoffMs: 200,
  /** Largest peer message either way (snapshot chunks are 1 MiB; raft batches are bounded by raft). */
  maxMessageBytes: 256 * 1024 * 1024,
  /** How often each link measures the round trip to its peer. */
  probeIntervalMs: 5000,
  /** Snapshot data chunk size. */
  snapshotChunkBytes: 1024 * 1024,
  /**
   * HTTP/2 receive window of the peer port, per connection and per stream: a few snapshot chunks, so a
   * snapshot or a burst of appends streams without waiting for a window update every 64 KiB.
   */
  receiveWindowBytes: 8 * 1024 * 1024,
} as const;

/** TransportHooks are what the transport reports to raft and asks of the member. */
export interface TransportHooks {
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  /** snapshotData streams the backend for a snapshot being sent. */
  snapshotData(): AsyncIterable<Uint8Array>;
  /** onRemoved is told when a peer refuses us because we were removed from the cluster. */
  onRemoved(): void;
  /** observeRoundTrip receives a peer's measured round-trip time (a small probe call every few seconds). */
  observeRoundTrip?(id: bigint, seconds: number): void;
}

/** PeerTlsOptions configure TLS to peers (for https:// peer URLs). */
export interface PeerTlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

export interface PeerTransportOptions {
  clusterId: bigint;
  memberId: bigint;
  logger: Logger;
  hooks: TransportHooks;
  tls?: PeerTlsOptions | undefined;
}

/**
 * PeerTransport carries raft messages to the other members over the Peer service (Connect-RPC, gRPC over
 * HTTP/2): one long-lived client stream per peer with batching and a bounded queue (back-pressure: a full
 * queue drops and reports the peer unreachable, and raft slows down to probing), snapshots on their own
 * stream, and unary calls for the few things only the leader can answer. It also keeps which peers were
 * heard from recently (the peer service tells it), for the reconfiguration checks.
 */
export class PeerTransport {
  readonly #options: PeerTransportOptions;
  readonly #links = new Map<bigint, PeerLink>();
  readonly #heard = new Map<bigint, { since: number; last: number }>();
  #clusterId: bigint;
  #closed = false;

  constructor(options: PeerTransportOptions) {
    this.#options = options;
    this.#clusterId = options.clusterId;
  }

  /** setClusterId updates the cluster id sent in headers (a joining member learns it from its peers). */
  setClusterId(id: bigint): void {
    this.#clusterId = id;
  }

  /** header is the PeerHeader for a call to `to`. */
  header(to: bigint): PeerHeader {
    return {
      $typeName: "etcdts.internal.v1.PeerHeader",
      clusterId: this.#clusterId,
      fromMemberId: this.#options.memberId,
      toMemberId: to,
    };
  }

  /** upsertPeer adds a peer, or points an existing one at new URLs. */
  upsertPeer(id: bigint, urls: readonly string[]): void {
    if (this.#closed || id === this.#options.memberId || urls.length === 0) return;
    const link = this.#links.get(id);
    if (link !== undefined && sameUrls(link.urls, urls)) return;
    link?.close();
    this.#links.set(id, new PeerLink(this, id, [...urls], this.#options));
  }

  /** removePeer closes the link to a removed member. */
  removePeer(id: bigint): void {
    this.#links.get(id)?.close();
    this.#links.delete(id);
    this.#heard.delete(id);
  }

  /** peerIds lists the peers with a link. */
  peerIds(): bigint[] {
    return [...this.#links.keys()];
  }

  /** send queues raft messages for their peers (best effort: raft retries what is lost). */
  send(messages: readonly Message[]): void {
    for (const m of messages) {
      const link = this.#links.get(m.to);
      if (link === undefined) continue;
      if (m.type === MessageType.MsgSnap) {
        link.sendSnapshot(m);
        continue;
      }
      if (!link.enqueue(toWireMessage(m))) this.#options.hooks.reportUnreachable(m.to);
    }
  }

  /** client is a unary client to a peer (lease forwarding, hashes, cluster info); undefined if unknown. */
  client(id: bigint): Client<typeof Peer> | undefined {
    return this.#links.get(id)?.client;
  }

  /** heardFrom records that a peer's stream delivered something (called by the peer service). */
  heardFrom(id: bigint, now = Date.now()): void {
    const entry = this.#heard.get(id);
    if (entry === undefined || now - entry.last > transportLimits.activeWindowMs) {
      this.#heard.set(id, { since: now, last: now });
    } else {
      entry.last = now;
    }
  }

  /** activeSince is when the peer became continuously reachable, or undefined if it is not now. */
  activeSince(id: bigint, now = Date.now()): number | undefined {
    if (id === this.#options.memberId) return 0;
    const entry = this.#heard.get(id);
    if (entry === undefined || now - entry.last > transportLimits.activeWindowMs) return undefined;
    return entry.since;
  }

  /** close ends every stream. */
  close(): void {
    this.#closed = true;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
  }
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(",") === [...b].sort().join(",");
}

/** clientFor makes a Peer client for one URL. */
export function peerClient(url: string, tls: PeerTlsOptions | undefined): Client<typeof Peer> {
  const secure = url.startsWith("https:");
  const transport = createGrpcTransport({
    baseUrl: url,
    readMaxBytes: transportLimits.maxMessageBytes,
    writeMaxBytes: transportLimits.maxMessageBytes,
    pingIntervalMs: 2000,
    pingTimeoutMs: 3000,
    pingIdleConnection: true,
    ...(secure && tls !== undefined
      ? {
          nodeOptions: {
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            ...(tls.cert === undefined ? {} : { cert: tls.cert }),
            ...(tls.key === undefined ? {} : { key: tls.key }),
            rejectUnauthorized: tls.rejectUnauthorized,
          },
        }
      : {}),
  });
  return createClient(Peer, transport);
}

/** PeerLink is the connection to one peer: the message stream, snapshot sends and a unary client. */
class PeerLink {
  readonly id: bigint;
  readonly urls: string[];
  readonly client: Client<typeof Peer>;
  readonly #transport: PeerTransport;
  readonly #options: PeerTransportOptions;
  readonly #queue: WireMessage[] = [];
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  /** lastTaken is when the stream last took a batch (the stall watchdog's clock). */
  #lastTaken = 0;
  #closed = false;
  #snapshotInFlight = false;
  #probe: NodeJS.Timeout | undefined;

  constructor(transport: PeerTransport, id: bigint, urls: string[], options: PeerTransportOptions) {
    this.#transport = transport;
    this.id = id;
    this.urls = urls;
    this.#options = options;
    const url = urls[0];
    assert(url !== undefined, "a peer has a URL");
    this.client = peerClient(url, options.tls);
    void this.#run();
    if (options.hooks.observeRoundTrip !== undefined) {
      this.#probe = setInterval(() => void this.#measureRoundTrip(), transportLimits.probeIntervalMs);
      this.#probe.unref();
    }
  }

  async #measureRoundTrip(): Promise<void> {
    const started = performance.now();
    try {
      await this.client.clusterInfo({ header: this.#transport.header(this.id) }, { timeoutMs: 2000 });
      this.#options.hooks.observeRoundTrip?.(this.id, (performance.now() - started) / 1000);
    } catch {
      // Unreachable peers are counted by the message stream.
    }
  }

  enqueue(message: WireMessage): boolean {
    if (this.#closed || this.#queue.length >= transportLimits.maxQueuedMessages) return false;
    this.#queue.push(message);
    this.#wake?.();
    return true;
  }

  close(): void {
    this.#closed = true;
    if (this.#probe !== undefined) clearInterval(this.#probe);
    this.#abort.abort();
    this.#wake?.();
  }

  async #run(): Promise<void> {
    let backoff: number = transportLimits.minBackoffMs;
    while (!this.#closed) {
      const startedAt = Date.now();
      // One controller per call: the link's close and the stall watchdog both end it.
      const call = new AbortController();
      const onClose = () => call.abort();
      this.#abort.signal.addEventListener("abort", onClose, { once: true });
      this.#lastTaken = Date.now();
      const watchdog = setInterval(() => {
        if (Date.now() - this.#lastTaken > transportLimits.stallMs) {
          call.abort(new ConnectError("peer stream stalled", Code.DeadlineExceeded));
        }
      }, transportLimits.keepAliveMs);
      try {
        const res = await this.client.streamMessages(this.#batches(call), { signal: call.signal });
        this.#options.logger.debug(
          { peer: this.id.toString(16), received: res.received.toString() },
          "peer stream ended by the peer",
        );
      } catch (err) {
        if (this.#closed) return;
        if (
          err instanceof ConnectError &&
          err.code === Code.PermissionDenied &&
          /removed/.test(err.rawMessage)
        ) {
          this.#options.hooks.onRemoved();
          return;
        }
        this.#options.logger.debug({ peer: this.id.toString(16), err: String(err) }, "peer stream failed");
        this.#queue.length = 0;
        this.#options.hooks.reportUnreachable(this.id);
      } finally {
        call.abort();
        clearInterval(watchdog);
        this.#abort.signal.removeEventListener("abort", onClose);
      }
      if (Date.now() - startedAt > 2 * transportLimits.maxBackoffMs) backoff = transportLimits.minBackoffMs;
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, transportLimits.maxBackoffMs);
    }
  }

  async *#batches(call: AbortController): AsyncGenerator<MessageBatch> {
    try {
      yield* this.#batchesUntilClosed(call.signal);
    } catch (err) {
      // A write failed (connect-node throws it into the request iterable): end the call, reconnect.
      call.abort(err);
    }
  }

  async *#batchesUntilClosed(done: AbortSignal): AsyncGenerator<MessageBatch> {
    // The first batch is empty: it opens the stream (and tells the peer we are alive) at once.
    yield {
      $typeName: "etcdts.internal.v1.MessageBatch",
      header: this.#transport.header(this.id),
      messages: [],
    };
    this.#lastTaken = Date.now();
    while (!this.#closed && !done.aborted) {
      if (this.#queue.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, transportLimits.keepAliveMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
      // A finished call's generator may still wake up here: it must not take messages for the next one.
      if (this.#closed || done.aborted) return;
      const messages = this.#queue.splice(0, transportLimits.maxBatchMessages);
      yield {
        $typeName: "etcdts.internal.v1.MessageBatch",
        header: this.#transport.header(this.id),
        messages,
      };
      this.#lastTaken = Date.now();
    }
  }

  /** sendSnapshot streams a MsgSnap and the backend to the peer; one at a time (raft waits for the report). */
  sendSnapshot(message: Message): void {
    if (this.#snapshotInFlight || this.#closed) return;
    this.#snapshotInFlight = true;
    const hooks = this.#options.hooks;
    const link = this;
    async function* chunks() {
      const header = link.#transport.header(link.id);
      yield {
        $typeName: "etcdts.internal.v1.SnapshotChunk" as const,
        header,
        message: toWireMessage(message),
        offset: 0n,
        data: new Uint8Array(),
        totalBytes: 0n,
        sha256: new Uint8Array(),
      };
      const hash = createHash("sha256");
      let offset = 0;
      for await (const data of hooks.snapshotData()) {
        hash.update(data);
        yield {
          $typeName: "etcdts.internal.v1.SnapshotChunk" as const,
          header,
          offset: BigInt(offset),
          data,
          totalBytes: 0n,
          sha256: new Uint8Array(),
        };
        offset += data.length;
      }
      yield {
        $typeName: "etcdts.internal.v1.SnapshotChunk" as const,
        header,
        offset: BigInt(offset),
        data: new Uint8Array(),
        totalBytes: BigInt(offset),
        sha256: new Uint8Array(hash.digest()),
      };
    }
    const started = Date.now();
    this.client
      .sendSnapshot(chunks(), { signal: this.#abort.signal })
      .then((res) => {
        if (!res.accepted) throw new Error(res.error || "snapshot refused");
        this.#options.logger.info(
          { peer: this.id.toString(16), index: message.snapshot?.metadata.index, ms: Date.now() - started },
          "sent a snapshot",
        );
        hooks.reportSnapshot(this.id, true);
      })
      .catch((err: unknown) => {
        this.#options.logger.warn({ peer: this.id.toString(16), err: String(err) }, "snapshot send failed");
        hooks.reportSnapshot(this.id, false);
        hooks.reportUnreachable(this.id);
      })
      .finally(() => {
        this.#snapshotInFlight = false;
      });
  }
}
