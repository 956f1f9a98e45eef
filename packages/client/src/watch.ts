/**
 * Watch: many watchers multiplexed over one bidirectional Watch stream per client. When the stream breaks
 * (member restarted, connection dropped, failover), it is re-opened — on the next endpoint if the current one
 * is unavailable — and every watcher is re-created from the revision after the last one it delivered, so
 * events are neither lost nor repeated. A watcher whose history was compacted away fails with
 * {@link WatchCompactedError}.
 *
 * Half-duplex transports (fetch in browsers) cannot send on a stream after it started receiving; there each
 * watcher gets its own stream, cancelled by aborting it, and progress requests are not available.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  Watch,
  WatchCreateRequest_FilterType,
  type WatchRequestSchema,
  type WatchResponse,
} from "@etcd-ts/proto/etcdserverpb";
import { Event_EventType } from "@etcd-ts/proto/mvccpb";
import { AsyncQueue } from "./async-queue.js";
import { backoffMs } from "./backoff.js";
import { type Bytes, toBytes } from "./bytes.js";
import type { Connection, Endpoint } from "./connection.js";
import { delay } from "./delay.js";
import { TypedEmitter } from "./emitter.js";
import {
  CanceledError,
  EtcdError,
  toEtcdError,
  UnavailableError,
  WatchCanceledError,
  WatchCompactedError,
} from "./errors.js";
import { type KeyValue, type ResponseHeader, toHeader, toKeyValue } from "./key-value.js";
import { type KeyRange, type RevisionLike, rangeEndOf, toRevision } from "./kv.js";

/** WatchOptions select what a watcher sees. */
export interface WatchOptions extends KeyRange {
  /** startRevision replays history from that revision (absent or 0: only changes after the watch starts). */
  startRevision?: RevisionLike;
  /** prevKv attaches each key's previous state to its events. */
  prevKv?: boolean;
  /** noPut filters out PUT events. */
  noPut?: boolean;
  /** noDelete filters out DELETE events. */
  noDelete?: boolean;
  /** progressNotify asks the server for periodic empty "progress" responses while idle. */
  progressNotify?: boolean;
  /** maxBufferedEvents bounds the events held for a slow async-iterator consumer (default 100000). */
  maxBufferedEvents?: number;
  /** signal cancels the watcher when it aborts. */
  signal?: AbortSignal;
}

/** WatchEvent is one change of one key. */
export interface WatchEvent {
  type: "put" | "delete";
  /** kv is the key's new state (for a delete: the key and the deletion's modRevision). */
  kv: KeyValue;
  /** prevKv is the previous state, when `prevKv` was asked for and the key existed. */
  prevKv?: KeyValue;
}

/** WatchBatch is one response's worth of events: whole revisions, in order. */
export interface WatchBatch {
  header: ResponseHeader;
  events: WatchEvent[];
}

/** WatcherEvents are the emitter events of a {@link Watcher}. */
export interface WatcherEvents extends Record<string, unknown> {
  /** created: the server confirmed the watch; payload: the store revision at that moment. */
  created: bigint;
  /** event: each event, in order. */
  event: WatchEvent;
  /** put: each PUT event. */
  put: WatchEvent;
  /** delete: each DELETE event. */
  delete: WatchEvent;
  /** batch: each response's events together. */
  batch: WatchBatch;
  /** progress: a progress notification; every event up to this revision has been delivered. */
  progress: bigint;
  /** disconnected: the stream broke; the watcher will resume. */
  disconnected: EtcdError;
  /** connected: the stream was re-established and the watcher re-created. */
  connected: bigint;
  /** error: the watcher ended with an error (compaction, permission, client closed). */
  error: EtcdError;
  /** end: the watcher ended (after cancel() or an error). */
  end: undefined;
}

type WatchRequestInit = MessageInitShape<typeof WatchRequestSchema>;

/**
 * Watcher is one watch. Use it as an event emitter (`on("put", ...)`) or as an async iterable of events
 * (`for await (const event of watcher)`). Events are buffered for the iterator from the moment the watcher is
 * created, unless an event listener is added before iteration begins (then the emitter is the consumer).
 */
export class Watcher extends TypedEmitter<WatcherEvents> implements AsyncIterable<WatchEvent> {
  /** key and rangeEnd are the watched range on the wire. */
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  /** ready resolves when the server has confirmed the watch (and rejects if it fails first). */
  readonly ready: Promise<void>;
  private readonly options: WatchOptions;
  private readonly queue: AsyncQueue<WatchEvent>;
  private iteratorTaken = false;
  private buffering = true;
  private next: bigint;
  private isCreated = false;
  private ended = false;
  private resolveReady!: () => void;
  private rejectReady!: (err: EtcdError) => void;
  private readonly manager: WatchManager;
  /** stream is the stream this watcher is registered on (set by the manager). */
  stream: WatchStream | undefined;

  constructor(manager: WatchManager, key: Bytes, options: WatchOptions) {
    super();
    this.manager = manager;
    this.options = options;
    const k = toBytes(key);
    this.rangeEnd = rangeEndOf(k, options);
    this.key = k.length === 0 ? new Uint8Array([0]) : k;
    this.next = toRevision(options.startRevision ?? 0);
    this.queue = new AsyncQueue<WatchEvent>(options.maxBufferedEvents ?? 100_000);
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    options.signal?.addEventListener("abort", () => void this.cancel(), { once: true });
  }

  /**
   * nextRevision is the revision this watcher resumes from after a reconnect: one past the last delivered
   * event (or past the store revision when it was created; 0 before that for a "from now" watch).
   */
  get nextRevision(): bigint {
    return this.next;
  }

  /** done is true once the watcher was cancelled or failed. */
  get done(): boolean {
    return this.ended;
  }

  /** cancel stops the watcher; the iterator ends and "end" is emitted. */
  async cancel(): Promise<void> {
    if (this.ended) return;
    this.finish(undefined);
  }

  /** createRequest is the request that (re)creates this watcher on a stream. */
  createRequest(): WatchRequestInit {
    const filters: WatchCreateRequest_FilterType[] = [];
    if (this.options.noPut === true) filters.push(WatchCreateRequest_FilterType.NOPUT);
    if (this.options.noDelete === true) filters.push(WatchCreateRequest_FilterType.NODELETE);
    return {
      requestUnion: {
        case: "createRequest",
        value: {
          key: this.key,
          rangeEnd: this.rangeEnd,
          startRevision: this.next,
          prevKv: this.options.prevKv ?? false,
          progressNotify: this.options.progressNotify ?? false,
          filters,
        },
      },
    };
  }

  /** onCreated is called by the stream when the server confirmed (re)creating this watcher. */
  onCreated(revision: bigint): void {
    // A "from now" watch covers the revisions after the one the server was at.
    if (this.next === 0n) this.next = revision + 1n;
    if (!this.isCreated) {
      this.isCreated = true;
      this.resolveReady();
      this.emit("created", revision);
    } else {
      this.emit("connected", revision);
    }
  }

  /** onEvents delivers one response's events; revisions already delivered are dropped (never repeated). */
  onEvents(header: ResponseHeader, raw: WatchResponse["events"]): void {
    const events: WatchEvent[] = [];
    for (const e of raw) {
      if (e.kv === undefined) continue;
      if (e.kv.modRevision < this.next) continue;
      const event: WatchEvent = {
        type: e.type === Event_EventType.DELETE ? "delete" : "put",
        kv: toKeyValue(e.kv),
      };
      if (e.prevKv !== undefined) event.prevKv = toKeyValue(e.prevKv);
      events.push(event);
    }
    const last = events[events.length - 1];
    if (last === undefined) return;
    this.next = last.kv.modRevision + 1n;
    if (this.buffering) for (const event of events) this.queue.push(event);
    this.emit("batch", { header, events });
    for (const event of events) {
      this.emit("event", event);
      this.emit(event.type, event);
    }
  }

  /** onProgress reports a progress notification meant for this watcher. */
  onProgress(revision: bigint, advance: boolean): void {
    if (advance && this.isCreated && revision + 1n > this.next) this.next = revision + 1n;
    this.emit("progress", revision);
  }

  /** onDisconnected reports that the stream broke and will be re-opened. */
  onDisconnected(err: EtcdError): void {
    this.emit("disconnected", err);
  }

  /** fail ends the watcher with an error. */
  fail(err: EtcdError): void {
    if (this.ended) return;
    this.finish(err);
  }

  private finish(err: EtcdError | undefined): void {
    this.ended = true;
    this.manager.remove(this);
    if (err === undefined) {
      this.queue.close();
      this.rejectReady(new WatchCanceledError("etcd-ts client: watcher cancelled"));
    } else {
      this.queue.fail(err);
      this.rejectReady(err);
      this.emit("error", err);
    }
    this.emit("end", undefined);
  }

  protected override listenerAdded(event: keyof WatcherEvents): void {
    if (
      !this.iteratorTaken &&
      (event === "event" || event === "put" || event === "delete" || event === "batch")
    ) {
      this.buffering = false;
      this.queue.clear();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    this.iteratorTaken = true;
    this.buffering = true;
    return this.queue[Symbol.asyncIterator]();
  }
}

/**
 * WatchStream is one Watch RPC carrying some watchers; it re-opens itself until it has no watchers left.
 */
export class WatchStream {
  private readonly watchers = new Set<Watcher>();
  private readonly byId = new Map<bigint, Watcher>();
  private pendingCreates: Watcher[] = [];
  private requests: AsyncQueue<WatchRequestInit> | undefined;
  private abort: AbortController | undefined;
  private running = false;
  private readonly connection: Connection;
  private readonly fullDuplex: boolean;
  private readonly onIdle: () => void;

  constructor(connection: Connection, fullDuplex: boolean, onIdle: () => void) {
    this.connection = connection;
    this.fullDuplex = fullDuplex;
    this.onIdle = onIdle;
  }

  /** size is the number of watchers on this stream. */
  get size(): number {
    return this.watchers.size;
  }

  /** add registers a watcher (opening the stream if needed). */
  add(watcher: Watcher): void {
    this.watchers.add(watcher);
    watcher.stream = this;
    if (!this.running) {
      this.running = true;
      void this.run();
    } else if (this.requests !== undefined && this.fullDuplex) {
      this.sendCreate(watcher);
    }
  }

  /** remove unregisters a watcher, telling the server; the stream closes when it was the last one. */
  remove(watcher: Watcher): void {
    if (!this.watchers.delete(watcher)) return;
    for (const [id, w] of this.byId) {
      if (w === watcher) {
        this.byId.delete(id);
        this.requests?.push({ requestUnion: { case: "cancelRequest", value: { watchId: id } } });
      }
    }
    if (this.watchers.size === 0) {
      this.abort?.abort(new WatchCanceledError("etcd-ts client: no watchers left"));
      this.onIdle();
    }
  }

  /** requestProgress asks the server for a progress notification on this stream. */
  requestProgress(): boolean {
    if (this.requests === undefined || !this.fullDuplex) return false;
    return this.requests.push({ requestUnion: { case: "progressRequest", value: {} } });
  }

  private sendCreate(watcher: Watcher): void {
    this.pendingCreates.push(watcher);
    this.requests?.push(watcher.createRequest());
  }

  private async run(): Promise<void> {
    for (let attempt = 0; this.watchers.size > 0 && !this.connection.closed; ) {
      const abort = new AbortController();
      this.abort = abort;
      const signal = this.connection.linkSignal(abort.signal);
      let endpoint: Endpoint | undefined;
      let failure: EtcdError;
      const requests = new AsyncQueue<WatchRequestInit>();
      try {
        const target = await this.connection.streamTarget(signal);
        endpoint = target.endpoint;
        this.requests = requests;
        this.byId.clear();
        this.pendingCreates = [];
        for (const watcher of this.watchers) this.sendCreate(watcher);
        if (!this.fullDuplex) requests.close();
        const responses = endpoint.client(Watch).watch(requests, target.options);
        for await (const response of responses) {
          attempt = 0;
          this.handle(response);
          if (this.watchers.size === 0) break;
        }
        failure = new UnavailableError("etcd-ts client: watch stream ended by the server");
      } catch (thrown) {
        failure = this.connection.classify(thrown, signal, undefined);
      } finally {
        requests.close();
        this.requests = undefined;
        abort.abort();
      }
      if (this.watchers.size === 0 || this.connection.closed) break;
      const retry = endpoint !== undefined && this.connection.streamFailed(endpoint, failure);
      if (!retry) {
        for (const watcher of [...this.watchers]) watcher.fail(failure);
        break;
      }
      for (const watcher of this.watchers) watcher.onDisconnected(failure);
      await delay(backoffMs(attempt++, this.connection.options.retry), this.connection.closeSignal).catch(
        () => {},
      );
    }
    this.running = false;
    if (this.connection.closed) {
      for (const watcher of [...this.watchers])
        watcher.fail(this.connection.classify(undefined, this.connection.closeSignal, undefined));
    }
  }

  private handle(response: WatchResponse): void {
    const header = toHeader(response.header);
    if (response.created) {
      const watcher = this.pendingCreates.shift();
      if (watcher === undefined) return;
      if (response.canceled || response.watchId === -1n) {
        watcher.fail(cancelError(response));
        return;
      }
      if (!this.watchers.has(watcher)) {
        this.requests?.push({
          requestUnion: { case: "cancelRequest", value: { watchId: response.watchId } },
        });
        return;
      }
      this.byId.set(response.watchId, watcher);
      watcher.onCreated(header.revision);
      if (response.events.length > 0) watcher.onEvents(header, response.events);
      return;
    }
    if (response.canceled) {
      const watcher = this.byId.get(response.watchId);
      if (watcher === undefined) return;
      this.byId.delete(response.watchId);
      watcher.fail(cancelError(response));
      return;
    }
    if (response.events.length === 0) {
      if (response.watchId === -1n) {
        // A stream-wide answer to a progress request; the watchers may still be catching up, so only report.
        for (const watcher of this.byId.values()) watcher.onProgress(header.revision, false);
      } else {
        this.byId.get(response.watchId)?.onProgress(header.revision, true);
      }
      return;
    }
    this.byId.get(response.watchId)?.onEvents(header, response.events);
  }
}

function cancelError(response: WatchResponse): EtcdError {
  if (response.compactRevision > 0n) return new WatchCompactedError(response.compactRevision);
  if (response.cancelReason === "") return new WatchCanceledError("");
  const typed = toEtcdError(new ConnectError(response.cancelReason, Code.Canceled));
  // A reason etcd names (permission denied, ...) keeps its typed class; anything else is a plain cancel.
  return typed.constructor === EtcdError || typed instanceof CanceledError
    ? new WatchCanceledError(response.cancelReason)
    : typed;
}

/** WatchManager hands out watchers and keeps the streams that carry them. */
export class WatchManager {
  private shared: WatchStream | undefined;
  private readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  /** watch starts a watcher on `key` (a range with options.end / prefix / fromKey). */
  watch(key: Bytes, options: WatchOptions = {}): Watcher {
    const watcher = new Watcher(this, key, options);
    if (this.connection.closed) {
      watcher.fail(this.connection.classify(undefined, this.connection.closeSignal, undefined));
      return watcher;
    }
    if (this.connection.fullDuplex) {
      this.shared ??= new WatchStream(this.connection, true, () => {
        this.shared = undefined;
      });
      this.shared.add(watcher);
    } else {
      new WatchStream(this.connection, false, () => {}).add(watcher);
    }
    return watcher;
  }

  /** remove takes a finished watcher off its stream. */
  remove(watcher: Watcher): void {
    watcher.stream?.remove(watcher);
  }

  /**
   * requestProgress asks the server to send a progress notification (the current revision) to the shared
   * stream's watchers. It returns false when there is no open stream or the transport is half-duplex.
   */
  requestProgress(): boolean {
    return this.shared?.requestProgress() ?? false;
  }
}
