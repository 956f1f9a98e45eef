import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { assert } from "./assert.js";
import { leanUnaryTransport } from "./grpc-unary.js";

/**
 * TransportKind picks the client's unary path: "lean" (default) frames unary gRPC calls directly on the HTTP/2
 * session; "connect" uses connect-node's gRPC transport for everything. Streams always use connect-node.
 */
export type TransportKind = "lean" | "connect";

/** Connection is one HTTP/2 connection to one endpoint and the gRPC transport that uses it. */
export interface Connection {
  readonly baseUrl: string;
  readonly transport: Transport;
}

/**
 * Connections holds `--conns` HTTP/2 connections (one connect-node gRPC transport and session manager each),
 * spread round-robin over the endpoints. Requesters pick a connection with `forClient(i)`, so `--clients`
 * requesters share the connections evenly, as etcd's benchmark spreads its clients over its gRPC conns.
 */
export class Connections {
  readonly list: readonly Connection[];
  private readonly managers: Http2SessionManager[];

  private constructor(list: Connection[], managers: Http2SessionManager[]) {
    this.list = list;
    this.managers = managers;
  }

  /** open creates `count` connections over `baseUrls` (round-robin). Sessions connect lazily on first use. */
  static open(baseUrls: readonly string[], count: number, kind: TransportKind = "lean"): Connections {
    assert(baseUrls.length > 0, "at least one endpoint");
    assert(Number.isSafeInteger(count) && count > 0, "--conns must be a positive integer");
    const list: Connection[] = [];
    const managers: Http2SessionManager[] = [];
    for (let i = 0; i < count; i++) {
      const baseUrl = baseUrls[i % baseUrls.length]!;
      const sessionManager = new Http2SessionManager(baseUrl, {
        // No idle timeout or pings during a run: a benchmark connection lives as long as the run.
        idleConnectionTimeoutMs: 2 ** 31 - 1,
      });
      managers.push(sessionManager);
      const grpc = createGrpcTransport({ baseUrl, sessionManager });
      list.push({
        baseUrl,
        transport: kind === "lean" ? leanUnaryTransport(sessionManager, baseUrl, grpc) : grpc,
      });
    }
    return new Connections(list, managers);
  }

  /** forClient returns the connection the i-th requester uses. */
  forClient(i: number): Connection {
    return this.list[i % this.list.length]!;
  }

  /** close aborts every HTTP/2 session (open streams end). */
  close(): void {
    for (const m of this.managers) m.abort();
  }
}
