/**
 * Connection: the endpoints of one client, the current one, failover between them, retries with backoff,
 * deadlines, cancellation and the auth token. Every RPC of the client goes through {@link Connection.unary}
 * (unary calls) or {@link Connection.streamTarget} (streams, which the watch and lease code re-open themselves).
 */
import type { DescService } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, createClient } from "@connectrpc/connect";
import { Auth } from "@etcd-ts/proto/etcdserverpb";
import { assert } from "./assert.js";
import { type BackoffOptions, backoffMs } from "./backoff.js";
import { delay } from "./delay.js";
import type { EndpointTransport, Protocol, TlsOptions, TransportFactory } from "./endpoint-transport.js";
import {
  AuthNotEnabledError,
  AuthOldRevisionError,
  CanceledError,
  ClientClosedError,
  DeadlineExceededError,
  EndpointUnavailableError,
  EtcdError,
  InvalidAuthTokenError,
  toEtcdError,
  UnavailableError,
  UserEmptyError,
} from "./errors.js";

/** Credentials are a user name and password; the client exchanges them for a token and renews it. */
export interface Credentials {
  username: string;
  password: string;
}

/** RetryOptions bound how often a call is re-sent after an Unavailable error. */
export interface RetryOptions extends BackoffOptions {
  /** maxAttempts is the most attempts per call, the first included (default 5). */
  maxAttempts?: number;
}

/** ConnectionOptions are the connection part of the client's options. */
export interface ConnectionOptions {
  endpoints: readonly string[];
  protocol: Protocol;
  tls?: TlsOptions;
  credentials?: Credentials;
  transportFactory: TransportFactory;
  dialTimeoutMs: number;
  defaultCallTimeoutMs?: number;
  retry: RetryOptions;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

/** CallSettings are the per-call controls every API method accepts. */
export interface CallSettings {
  /** signal cancels the call (it then rejects with CanceledError). */
  signal?: AbortSignal;
  /** timeoutMs is the deadline for the whole call, retries included (it then rejects with DeadlineExceededError). */
  timeoutMs?: number;
  /**
   * endpoint pins the call to one endpoint (e.g. "127.0.0.1:2379"; it need not be in the client's list), with
   * no failover: for per-member calls such as status, defragment or hashKV.
   */
  endpoint?: string;
}

/** Endpoint is one server address with its lazily-opened transport. */
export class Endpoint {
  /** url is the endpoint as a URL, e.g. "http://127.0.0.1:2379". */
  readonly url: string;
  private endpointTransport: EndpointTransport | undefined;
  private readonly clients = new Map<string, unknown>();
  private readonly make: () => EndpointTransport;

  constructor(url: string, make: () => EndpointTransport) {
    this.url = url;
    this.make = make;
  }

  /** transport opens (once) and returns this endpoint's transport. */
  get transport(): EndpointTransport {
    this.endpointTransport ??= this.make();
    return this.endpointTransport;
  }

  /** client returns the (cached) Connect client for `service` on this endpoint. */
  client<S extends DescService>(service: S): Client<S> {
    let client = this.clients.get(service.typeName);
    if (client === undefined) {
      client = createClient(service, this.transport.transport);
      this.clients.set(service.typeName, client);
    }
    return client as Client<S>;
  }

  /** close drops the connection (a later call reconnects). */
  close(): void {
    this.endpointTransport?.close();
    this.endpointTransport = undefined;
    this.clients.clear();
  }
}

/** normalizeEndpoint turns "host:port" into a URL (https when TLS is configured) and checks the scheme. */
export function normalizeEndpoint(endpoint: string, tls: boolean): string {
  const withScheme = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `${tls ? "https" : "http"}://${endpoint}`;
  const url = new URL(withScheme);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`etcd-ts client: endpoint ${endpoint}: scheme must be http or https`);
  }
  return `${url.protocol}//${url.host}`;
}

/** Connection is the shared RPC machinery of one client. */
export class Connection {
  readonly options: ConnectionOptions;
  private readonly endpoints: Endpoint[];
  private readonly extraEndpoints = new Map<string, Endpoint>();
  private current = 0;
  private readonly closer = new AbortController();
  /** token is undefined until fetched, "" when the server has auth disabled. */
  private token: string | undefined;
  private tokenFetch: Promise<void> | undefined;

  constructor(options: ConnectionOptions) {
    assert(options.endpoints.length > 0, "at least one endpoint");
    this.options = options;
    this.endpoints = options.endpoints.map((endpoint) => this.makeEndpoint(endpoint));
  }

  private makeEndpoint(endpoint: string): Endpoint {
    const options = this.options;
    const url = normalizeEndpoint(endpoint, options.tls !== undefined);
    return new Endpoint(url, () =>
      options.transportFactory({
        baseUrl: url,
        protocol: options.protocol,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        pingIntervalMs: options.pingIntervalMs,
        pingTimeoutMs: options.pingTimeoutMs,
      }),
    );
  }

  /** endpointFor finds (or creates) the endpoint for an address, for pinned calls. */
  endpointFor(address: string): Endpoint {
    const url = normalizeEndpoint(address, this.options.tls !== undefined);
    const listed = this.endpoints.find((e) => e.url === url);
    if (listed !== undefined) return listed;
    let extra = this.extraEndpoints.get(url);
    if (extra === undefined) {
      extra = this.makeEndpoint(url);
      this.extraEndpoints.set(url, extra);
    }
    return extra;
  }

  /** closed is true after {@link Connection.close}. */
  get closed(): boolean {
    return this.closer.signal.aborted;
  }

  /** closeSignal aborts when the client is closed; long-running loops listen to it. */
  get closeSignal(): AbortSignal {
    return this.closer.signal;
  }

  /** fullDuplex tells whether streams can send after they started receiving (false for browser fetch). */
  get fullDuplex(): boolean {
    return this.currentEndpoint().transport.fullDuplex;
  }

  /** endpointUrls lists the endpoints, current one first. */
  endpointUrls(): string[] {
    const n = this.endpoints.length;
    return this.endpoints.map((_, i) => (this.endpoints[(this.current + i) % n] as Endpoint).url);
  }

  /** close cancels every call and stream and drops all connections. */
  close(): void {
    if (this.closed) return;
    this.closer.abort(new ClientClosedError());
    for (const endpoint of this.endpoints) endpoint.close();
    for (const endpoint of this.extraEndpoints.values()) endpoint.close();
  }

  /** linkSignal joins a caller's signal with the client's close signal. */
  linkSignal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.closer.signal : AbortSignal.any([signal, this.closer.signal]);
  }

  /**
   * unary runs one RPC with failover. `safe` calls (reads, and anything idempotent) are retried on another
   * endpoint after an Unavailable error; unsafe ones (writes) only when the request provably never left this
   * process (the connection could not be opened). An invalid or outdated auth token is renewed once.
   */
  async unary<R>(
    safe: boolean,
    settings: CallSettings | undefined,
    call: (endpoint: Endpoint, options: CallOptions) => Promise<R>,
  ): Promise<R> {
    const timeoutMs = settings?.timeoutMs ?? this.options.defaultCallTimeoutMs;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const signal = this.linkSignal(settings?.signal);
    const maxAttempts = Math.max(1, this.options.retry.maxAttempts ?? 5);
    let authRenewed = false;
    const pinned = settings?.endpoint === undefined ? undefined : this.endpointFor(settings.endpoint);
    for (let attempt = 0; ; attempt++) {
      const endpoint = pinned ?? this.currentEndpoint();
      let usedToken: string | undefined;
      try {
        this.checkSignal(signal);
        const remaining = this.remaining(deadline);
        await this.connectEndpoint(endpoint, remaining);
        usedToken = await this.getToken(endpoint, signal, this.remaining(deadline));
        return await call(endpoint, this.callOptions(signal, this.remaining(deadline), usedToken));
      } catch (thrown) {
        const err = this.classify(thrown, signal, deadline);
        if (this.isAuthRenewable(err, usedToken) && !authRenewed) {
          authRenewed = true;
          this.dropToken(usedToken);
          attempt--;
          continue;
        }
        if (!(err instanceof UnavailableError)) throw err;
        this.failover(endpoint);
        const retriable = safe || err instanceof EndpointUnavailableError;
        if (!retriable || attempt + 1 >= maxAttempts) throw err;
        const wait = backoffMs(attempt, this.options.retry);
        if (deadline !== undefined && Date.now() + wait >= deadline) throw err;
        await delay(wait, signal).catch(() => {
          throw this.classify(signal.reason, signal, deadline);
        });
      }
    }
  }

  /**
   * streamTarget finds an endpoint to open a stream on: the current one, or the next that accepts a
   * connection, waiting with backoff between rounds. It only gives up when `signal` aborts.
   */
  async streamTarget(signal: AbortSignal): Promise<{ endpoint: Endpoint; options: CallOptions }> {
    for (let attempt = 0; ; attempt++) {
      const endpoint = this.currentEndpoint();
      let usedToken: string | undefined;
      try {
        this.checkSignal(signal);
        await this.connectEndpoint(endpoint, undefined);
        usedToken = await this.getToken(endpoint, signal, this.options.dialTimeoutMs);
        return { endpoint, options: this.callOptions(signal, undefined, usedToken) };
      } catch (thrown) {
        const err = this.classify(thrown, signal, undefined);
        if (signal.aborted) throw err;
        if (this.isAuthRenewable(err, usedToken)) {
          this.dropToken(usedToken);
        } else if (err instanceof UnavailableError) {
          this.failover(endpoint);
        } else {
          throw err;
        }
        await delay(backoffMs(attempt, this.options.retry), signal).catch(() => {
          throw this.classify(signal.reason, signal, undefined);
        });
      }
    }
  }

  /**
   * streamFailed is told that a stream on `endpoint` failed with `err`: an auth failure drops the token, an
   * Unavailable error moves on to the next endpoint. It returns whether the stream should be re-opened.
   */
  streamFailed(endpoint: Endpoint, err: EtcdError, usedToken?: string): boolean {
    if (this.closed) return false;
    if (this.isAuthRenewable(err, usedToken ?? this.token)) {
      this.dropToken(usedToken ?? this.token);
      return true;
    }
    // A cancel the caller did not ask for arrives here as Unavailable (`classify`); unknown and internal
    // errors are transport failures too. etcd's typed errors are final.
    const transportLevel =
      err instanceof UnavailableError ||
      (err.constructor === EtcdError &&
        (err.code === Code.Unknown || err.code === Code.Internal || err.code === Code.Aborted));
    if (!transportLevel) return false;
    this.failover(endpoint);
    return true;
  }

  /** classify turns a thrown value into an EtcdError, telling the client's close and the deadline apart. */
  classify(thrown: unknown, signal: AbortSignal, deadline: number | undefined): EtcdError {
    if (this.closed) return new ClientClosedError();
    if (thrown instanceof DeadlineExceededError) return thrown;
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      if (reason instanceof CanceledError) return reason;
      return new CanceledError("context canceled", { cause: reason });
    }
    const err = toEtcdError(thrown);
    if (deadline !== undefined && Date.now() >= deadline && err instanceof CanceledError) {
      return new DeadlineExceededError(undefined, { cause: thrown });
    }
    // Nobody here cancelled the call, so a cancel is the connection going away under it: when a member is
    // killed, HTTP/2 closes the streams of its dropped connection with CANCEL. The member is unavailable
    // (a read goes to the next endpoint; a write in flight reports an unknown outcome, as etcd's client).
    if (err instanceof CanceledError) {
      return new UnavailableError(err.message, Code.Unavailable, { cause: thrown });
    }
    return err;
  }

  private currentEndpoint(): Endpoint {
    const endpoint = this.endpoints[this.current];
    assert(endpoint !== undefined, "current endpoint index in range");
    return endpoint;
  }

  /** failover moves to the next endpoint if `endpoint` is still the current one. */
  private failover(endpoint: Endpoint): void {
    if (this.currentEndpoint() === endpoint) {
      this.current = (this.current + 1) % this.endpoints.length;
    }
  }

  private remaining(deadline: number | undefined): number | undefined {
    if (deadline === undefined) return undefined;
    const left = deadline - Date.now();
    if (left <= 0) throw new DeadlineExceededError();
    return left;
  }

  private checkSignal(signal: AbortSignal): void {
    if (signal.aborted) throw signal.reason;
  }

  private async connectEndpoint(endpoint: Endpoint, remaining: number | undefined): Promise<void> {
    const dial = this.options.dialTimeoutMs;
    await endpoint.transport.connect(remaining === undefined ? dial : Math.min(dial, remaining));
  }

  private callOptions(
    signal: AbortSignal,
    timeoutMs: number | undefined,
    token: string | undefined,
  ): CallOptions {
    const options: CallOptions = { signal };
    if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
    if (token !== undefined && token !== "") options.headers = { token };
    return options;
  }

  private isAuthRenewable(err: EtcdError, usedToken: string | undefined): boolean {
    if (this.options.credentials === undefined) return false;
    if (err instanceof InvalidAuthTokenError || err instanceof AuthOldRevisionError) return true;
    // Auth was enabled after we learned it was off: the request went without a token.
    return err instanceof UserEmptyError && usedToken === "";
  }

  private dropToken(usedToken: string | undefined): void {
    if (this.token === usedToken) this.token = undefined;
  }

  /** getToken returns the auth token to send (authenticating first when there is none yet). */
  private async getToken(
    endpoint: Endpoint,
    signal: AbortSignal,
    timeoutMs: number | undefined,
  ): Promise<string | undefined> {
    const credentials = this.options.credentials;
    if (credentials === undefined) return undefined;
    if (this.token !== undefined) return this.token;
    this.tokenFetch ??= (async () => {
      try {
        const options: CallOptions = { signal };
        if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
        const response = await endpoint
          .client(Auth)
          .authenticate({ name: credentials.username, password: credentials.password }, options);
        this.token = response.token;
      } catch (thrown) {
        const err = toEtcdError(thrown);
        if (!(err instanceof AuthNotEnabledError)) throw err;
        this.token = "";
      } finally {
        this.tokenFetch = undefined;
      }
    })();
    await this.tokenFetch;
    return this.token;
  }
}
