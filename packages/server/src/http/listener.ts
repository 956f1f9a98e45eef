import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type tls from "node:tls";
import { assert } from "../assert.js";
import { rewritingSocket } from "./authority-rewrite.js";

/** RequestHandler serves both HTTP/1.1 and HTTP/2 requests (the connect-node adapter is one). */
export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** The HTTP/2 connection preface every h2c client sends first (RFC 9113 §3.4). */
const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * Listener serves gRPC (HTTP/2 with prior knowledge, as etcd clients speak it), gRPC-Web, Connect and the
 * JSON gateway (HTTP/1.1) on ONE cleartext port, like etcd's client port. Node's cleartext http2 server
 * cannot fall back to HTTP/1.1 itself, so the listener reads the first bytes of each connection and hands
 * the socket to the HTTP/2 or the HTTP/1.1 server.
 */
/** TlsOptions turn a listener into an https listener (HTTP/2 and HTTP/1.1 chosen by ALPN). */
export interface TlsOptions {
  cert: Buffer;
  key: Buffer;
  /** ca verifies client certificates when `requestCert` is set (--trusted-ca-file). */
  ca?: Buffer;
  /** requestCert requires a client certificate signed by `ca` (--client-cert-auth). */
  requestCert: boolean;
  /** minVersion is the lowest TLS version accepted (etcd's floor is TLS 1.2). */
  minVersion: tls.SecureVersion;
  /** handshakeTimeoutMs bounds the TLS handshake. */
  handshakeTimeoutMs: number;
  /** crl lists revoked client certificates (--client-crl-file / --peer-crl-file). */
  crl?: Buffer;
  /** ciphers narrows the TLS 1.2 suites (--cipher-suites, see tls-config.ts). */
  ciphers?: string;
  /** allowedCommonName refuses clients whose certificate has another CN (--peer-cert-allowed-cn). */
  allowedCommonName?: string;
}

/**
 * clientCommonNameHeader carries the verified client certificate's common name to the handlers (etcd uses
 * it as the user when auth is on and no token is given). The listener always removes it from what clients
 * send and sets it only from a certificate it verified.
 */
export const clientCommonNameHeader = "x-etcd-ts-client-cn";

type AnyReq = http.IncomingMessage | http2.Http2ServerRequest;
type AnyRes = http.ServerResponse | http2.Http2ServerResponse;

/** peerCommonName is the CN of the verified client certificate on a request's TLS socket, if any. */
function peerCommonName(req: AnyReq): string | undefined {
  const socket = req.socket as
    | (net.Socket & { getPeerCertificate?: () => { subject?: { CN?: string } } })
    | null;
  const cert = socket?.getPeerCertificate?.();
  const cn = cert?.subject?.CN;
  return typeof cn === "string" && cn !== "" ? cn : undefined;
}

function identified(handler: RequestHandler, tlsOptions: TlsOptions | undefined): RequestHandler {
  const verified = tlsOptions?.requestCert === true;
  return (req: AnyReq, res: AnyRes) => {
    delete req.headers[clientCommonNameHeader];
    if (verified) {
      const cn = peerCommonName(req);
      const allowed = tlsOptions?.allowedCommonName;
      if (allowed !== undefined && allowed !== "" && cn !== allowed) {
        res.writeHead(403, { "content-type": "text/plain" });
        res.end(`client certificate CN ${JSON.stringify(cn ?? "")} is not allowed\n`);
        return;
      }
      if (cn !== undefined) req.headers[clientCommonNameHeader] = cn;
    }
    handler(req, res);
  };
}

export class Listener {
  readonly #tcp: net.Server;
  readonly #h2: http2.Http2Server | http2.Http2SecureServer;
  readonly #h1: http.Server;
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  readonly #sockets = new Set<net.Socket>();

  readonly #rewriteAuthority: boolean;
  readonly #receiveWindowBytes: number | undefined;

  /**
   * `rewriteAuthority` (default true) puts h2c connections through the :authority rewriter that etcdctl
   * 3.4's `--cluster` needs (authority-rewrite.ts). The peer port turns it off: only members dial it, and
   * their connections then go to the HTTP/2 server as they are, without a JavaScript stream in between.
   *
   * `receiveWindowBytes` (default: HTTP/2's 64 KiB) is how much each HTTP/2 connection, and each stream on
   * it, may send before it waits for the listener's WINDOW_UPDATE. The peer port raises it: a 1 MiB
   * snapshot chunk or a large append behind a 64 KiB window waits for a window update every 64 KiB, each a
   * round trip through two busy event loops.
   */
  constructor(
    plainHandler: RequestHandler,
    tlsOptions?: TlsOptions,
    options: { rewriteAuthority?: boolean; receiveWindowBytes?: number } = {},
  ) {
    this.#rewriteAuthority = options.rewriteAuthority ?? true;
    this.#receiveWindowBytes = options.receiveWindowBytes;
    const window = options.receiveWindowBytes;
    assert(
      window === undefined || (Number.isSafeInteger(window) && window >= 65_535 && window <= 2 ** 31 - 1),
      "an HTTP/2 window is 65,535 to 2^31-1 bytes",
    );
    const settings = window === undefined ? {} : { settings: { initialWindowSize: window } };
    const handler = identified(plainHandler, tlsOptions);
    this.#h2 =
      tlsOptions === undefined
        ? http2.createServer({ maxSessionMemory: 64, ...settings }, handler)
        : http2.createSecureServer(
            {
              maxSessionMemory: 64,
              ...settings,
              allowHTTP1: true,
              cert: tlsOptions.cert,
              key: tlsOptions.key,
              ...(tlsOptions.ca === undefined ? {} : { ca: tlsOptions.ca }),
              requestCert: tlsOptions.requestCert,
              rejectUnauthorized: tlsOptions.requestCert,
              minVersion: tlsOptions.minVersion,
              handshakeTimeout: tlsOptions.handshakeTimeoutMs,
              ...(tlsOptions.crl === undefined ? {} : { crl: tlsOptions.crl }),
              ...(tlsOptions.ciphers === undefined ? {} : { ciphers: tlsOptions.ciphers }),
            },
            handler,
          );
    this.#h1 = http.createServer(handler);
    this.#h1.keepAliveTimeout = 30_000;
    this.#h2.on("session", (session) => {
      // The connection's own window is not a SETTINGS value: the session raises it with a WINDOW_UPDATE.
      if (this.#receiveWindowBytes !== undefined) session.setLocalWindowSize(this.#receiveWindowBytes);
      this.#sessions.add(session);
      session.on("close", () => this.#sessions.delete(session));
    });
    // With TLS, ALPN picks the protocol: the secure HTTP/2 server takes every connection itself.
    this.#tcp =
      tlsOptions === undefined
        ? net.createServer((socket) => this.#route(socket))
        : net.createServer((socket) => {
            this.#sockets.add(socket);
            socket.on("close", () => this.#sockets.delete(socket));
            this.#h2.emit("connection", socket);
          });
  }

  #route(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, http2Preface.length);
      const isHttp2 = head.subarray(0, n).equals(http2Preface.subarray(0, n));
      if (isHttp2 && head.length < http2Preface.length) return; // wait for the whole preface
      socket.off("data", onData);
      if (isHttp2 && this.#rewriteAuthority) {
        // HTTP/2 goes through the :authority rewriter (see authority-rewrite.ts), which also gets the
        // bytes read so far.
        this.#h2.emit("connection", rewritingSocket(socket, head));
        return;
      }
      socket.pause();
      // Hand the bytes read so far back to the stream; both servers take buffered data first.
      socket.unshift(head);
      if (isHttp2) {
        this.#h2.emit("connection", socket);
        return;
      }
      this.#h1.emit("connection", socket);
      socket.resume();
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
  }

  /** listen binds host:port; port 0 picks a free port (see `port`). */
  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#tcp.once("error", reject);
      this.#tcp.listen({ host, port, backlog: 1024 }, () => {
        this.#tcp.off("error", reject);
        resolve();
      });
    });
  }

  /** port is the bound TCP port. */
  get port(): number {
    const address = this.#tcp.address();
    assert(address !== null && typeof address === "object", "listener is not bound");
    return address.port;
  }

  /**
   * close stops accepting connections, lets requests in flight finish for up to `graceMs` (HTTP/2 GOAWAY,
   * idle HTTP/1.1 connections closed), then ends whatever is still open (long-lived watch streams).
   */
  async close(graceMs = 0): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    if (graceMs > 0) {
      for (const session of this.#sessions) session.close();
      this.#h1.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (this.#sessions.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
    this.#h1.closeAllConnections();
    await closed;
  }
}
