/**
 * Session: one run of a command. It owns the output streams, the global options and (lazily) the client
 * connection, and runs every RPC the way etcdctl's clientv3 does: the command timeout as deadline, the auth
 * token in the `token` header, and a zap "retrying of unary invoker failed" warning on stderr when a call fails.
 */
import { randomUUID } from "node:crypto";
import { EndpointUnavailableError, EtcdClient } from "@etcd-ts/client";
import { Auth } from "@etcd-ts/proto/etcdserverpb";
import { ExitCode, ExitError } from "./errors.js";
import type { GlobalOptions } from "./global-options.js";
import { Code, etcdctlErrorText, grpcStatusText, type RpcFailure, toRpcFailure } from "./rpc-error.js";
import { zapLine } from "./zap-log.js";

/** Io is where a command reads and writes; tests and the binary provide it. */
export interface Io {
  stdout(text: string | Uint8Array): void;
  stderr(text: string): void;
  /** readStdin reads all of stdin. */
  readStdin(): Promise<Buffer>;
  /** stdinLines yields stdin line by line (interactive txn, watch -i). */
  stdinLines(): AsyncIterable<string>;
  /** isTTY tells whether stderr, where progress bars are drawn, is a terminal. */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** Endpoint as the client package hands it to a call. */
export type CallEndpoint = Parameters<Parameters<EtcdClient["connection"]["unary"]>[2]>[0];
/** CallOptions as the client package hands them to a call. */
export type CallOptions = Parameters<Parameters<EtcdClient["connection"]["unary"]>[2]>[1];

/** UnaryOptions adjust one call. */
export interface UnaryOptions {
  /** safe calls may be retried on another endpoint after an Unavailable error. */
  safe?: boolean;
  /** endpoint pins the call to one member ("host:port" or URL). */
  endpoint?: string;
  /**
   * ownClient says that etcdctl reaches `endpoint` through a client of its own (endpoint health), not by
   * dialling it directly (Maintenance calls): it changes how an unreachable endpoint is reported.
   */
  ownClient?: boolean;
  /** timeoutMs replaces the command timeout (0: no deadline). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** client runs the call on another connection (make-mirror's destination) instead of the session's. */
  client?: EtcdClient;
}

/** CallFailed is a failed RPC, already logged, with etcdctl's text for it. */
export class CallFailed extends Error {
  readonly failure: RpcFailure;
  constructor(failure: RpcFailure) {
    super(etcdctlErrorText(failure));
    this.failure = failure;
    this.name = "CallFailed";
  }
}

/** CLIENTV3_MAX_RETRIES is clientv3 3.4's defaultUnaryMaxRetries. */
const CLIENTV3_MAX_RETRIES = 100;

/** hostPort strips an endpoint's scheme. */
function hostPort(endpoint: string): string {
  return endpoint.replace(/^[a-z]+:\/\//, "");
}

/** sleepUntil waits until `deadline` (ms since the epoch) or until `signal` aborts. */
function sleepUntil(deadline: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = deadline - Date.now();
  if (ms <= 0 || signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * unreachableFailure is what clientv3 reports when no connection could be made before the deadline: the
 * balancer's last error. A call pinned to one endpoint (Maintenance on a given member) dials it directly and
 * names the dial error; otherwise every sub-connection is in TransientFailure.
 */
function unreachableFailure(err: EndpointUnavailableError, pinned: string | undefined): RpcFailure {
  const refused = /ECONNREFUSED/.test(String(err.message)) || /ECONNREFUSED/.test(String(err.cause));
  const desc =
    pinned !== undefined && refused
      ? `latest balancer error: connection error: desc = "transport: Error while dialing dial tcp ${hostPort(pinned)}: connect: connection refused"`
      : "latest balancer error: all SubConns are in TransientFailure";
  return { code: Code.DeadlineExceeded, desc, fromServer: false };
}

/** Session is the per-run state shared by the commands. */
export class Session {
  readonly io: Io;
  readonly globals: GlobalOptions;
  private client: EtcdClient | undefined;
  private token: string | undefined;
  private readonly clientId = randomUUID();
  private readonly others: EtcdClient[] = [];

  constructor(io: Io, globals: GlobalOptions) {
    this.io = io;
    this.globals = globals;
  }

  /** out writes to stdout. */
  out(text: string | Uint8Array): void {
    this.io.stdout(text);
  }

  /** err writes to stderr. */
  err(text: string): void {
    this.io.stderr(text);
  }

  /** target is the grpc target etcdctl's log lines name. */
  private target(endpoint?: string): string {
    const first = endpoint ?? this.globals.endpoints[0] ?? "";
    return `endpoint://client-${this.clientId}/${first.replace(/^[a-z]+:\/\//, "")}`;
  }

  /** logRetryWarning writes clientv3's warning for a failed unary call. */
  logRetryWarning(failure: RpcFailure, endpoint?: string, target?: string): void {
    this.err(
      `${zapLine("warn", "clientv3/retry_interceptor.go:62", "retrying of unary invoker failed", [
        ["target", target ?? this.target(endpoint)],
        ["attempt", 0],
        ["error", grpcStatusText(failure)],
      ])}\n`,
    );
  }

  /** connection returns the client (opened on first use; authenticated when --user is set). */
  async connect(other?: { endpoints: string[]; tls?: GlobalOptions["tls"] }): Promise<EtcdClient> {
    if (this.client !== undefined && other === undefined) return this.client;
    const tls = other === undefined ? this.globals.tls : other.tls;
    const client = new EtcdClient({
      endpoints: other?.endpoints ?? this.globals.endpoints,
      dialTimeoutMs: this.globals.dialTimeoutMs,
      // etcd answers PINGs more often than every 5 s with GOAWAY ENHANCE_YOUR_CALM, so --keepalive-time is
      // not used as the PING interval; the client's (longer) default is kept.
      keepAliveTimeoutMs: this.globals.keepAliveTimeoutMs,
      // clientv3 3.4 retries a call up to 100 times (and waits for a connection until the deadline).
      retry: { maxAttempts: CLIENTV3_MAX_RETRIES },
      ...(tls === undefined ? {} : { tls }),
    });
    if (other !== undefined) {
      this.others.push(client);
      return client;
    }
    this.client = client;
    if (this.globals.user !== "") await this.authenticate(client);
    return client;
  }

  private async authenticate(client: EtcdClient): Promise<void> {
    let name = this.globals.user;
    let password = this.globals.password;
    if (password === "") {
      const colon = name.indexOf(":");
      if (colon < 0) {
        password = await this.promptPassword();
      } else {
        password = name.slice(colon + 1);
        name = name.slice(0, colon);
      }
    } else if (name.includes(":")) {
      throw new ExitError(ExitCode.badArgs, 'username contains ":"');
    }
    try {
      const response = await client.connection.unary(
        true,
        { timeoutMs: this.globals.dialTimeoutMs + this.globals.commandTimeoutMs },
        (ep, call) => ep.client(Auth).authenticate({ name, password }, call),
      );
      this.token = response.token;
    } catch (thrown) {
      const failure = toRpcFailure(thrown);
      if (failure.fromServer) this.logRetryWarning(failure);
      if (failure.desc === "etcdserver: authentication is not enabled") return;
      throw new ExitError(ExitCode.badConnection, etcdctlErrorText(failure));
    }
  }

  private async promptPassword(): Promise<string> {
    this.err("Password: ");
    for await (const line of this.io.stdinLines()) return line;
    return "";
  }

  /** withToken adds the auth token to call options. */
  withToken(options: CallOptions): CallOptions {
    if (this.token === undefined || this.token === "") return options;
    return {
      ...options,
      headers: { ...(options.headers as Record<string, string> | undefined), token: this.token },
    };
  }

  /**
   * unary runs one RPC with the command timeout. A failure is logged like clientv3 does and thrown as
   * {@link CallFailed}.
   */
  async unary<R>(
    call: (endpoint: CallEndpoint, options: CallOptions) => Promise<R>,
    options: UnaryOptions = {},
  ): Promise<R> {
    const client = options.client ?? (await this.connect());
    const timeoutMs = options.timeoutMs ?? this.globals.commandTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    try {
      return await client.connection.unary(
        options.safe ?? false,
        {
          ...(timeoutMs > 0 ? { timeoutMs } : {}),
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
        (endpoint, callOptions) =>
          call(endpoint, options.client === undefined ? this.withToken(callOptions) : callOptions),
      );
    } catch (thrown) {
      let failure = toRpcFailure(thrown);
      if (thrown instanceof EndpointUnavailableError && timeoutMs > 0) {
        // No endpoint would take a connection. gRPC-go waits for one until the deadline and then reports the
        // balancer's last error; the client gave up one backoff early, so wait out the rest.
        await sleepUntil(deadline, options.signal);
        const dialled = options.ownClient === true ? undefined : options.endpoint;
        failure = unreachableFailure(thrown, dialled);
        if (dialled !== undefined) {
          this.logRetryWarning(failure, dialled, `passthrough:///${hostPort(dialled)}`);
          throw new CallFailed(failure);
        }
      }
      if (failure.code !== Code.Canceled) this.logRetryWarning(failure, options.endpoint);
      throw new CallFailed(failure);
    }
  }

  /** streamTarget finds an endpoint to open a stream on, with the auth token attached. */
  async streamTarget(signal: AbortSignal): Promise<{ endpoint: CallEndpoint; options: CallOptions }> {
    const client = await this.connect();
    const target = await client.connection.streamTarget(signal);
    return { endpoint: target.endpoint, options: this.withToken(target.options) };
  }

  /** close drops the connection. */
  close(): void {
    this.client?.close();
    this.client = undefined;
    for (const c of this.others) c.close();
  }
}

/** failWith turns a failed call into etcdctl's exit (code 1 unless said otherwise). */
export function failWith(
  err: unknown,
  code: number = ExitCode.error,
  wrap?: (text: string) => string,
): never {
  if (err instanceof ExitError) throw err;
  const text = err instanceof CallFailed ? err.message : etcdctlErrorText(toRpcFailure(err));
  throw new ExitError(code, wrap === undefined ? text : wrap(text));
}
