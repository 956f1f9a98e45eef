// A loopback TCP proxy for partition tests: it listens on one port and forwards every connection to a target
// port. pause() cuts every connection it carries and refuses (or silently drops) new ones until resume(), which
// is what a network partition looks like to the processes on either side. block(pid) does the same only for
// connections opened by one process (Linux: the source socket is looked up in /proc), so that a member can be
// cut off from its peers in both directions while the others still talk to each other.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createConnection, createServer } from "node:net";

/** Upper bound on connections one proxy carries at once; a test that opens more has a leak. */
const MAX_CONNECTIONS = 1024;

/**
 * What a paused proxy does with a new connection: "refuse" resets it at once (the dialer sees ECONNRESET, as
 * if nothing listened), "drop" accepts it and never forwards a byte (the dialer waits for its own timeout, as
 * if packets were lost). Existing connections are cut either way.
 * @typedef {"refuse" | "drop"} PauseMode
 */

/**
 * @typedef {object} TcpProxyOptions
 * @property {number} target          port on `targetHost` that connections are forwarded to
 * @property {string} [targetHost]    default 127.0.0.1
 * @property {number} [port]          port to listen on; 0 or absent picks a free one
 * @property {string} [host]          address to listen on; default 127.0.0.1
 */

/**
 * @typedef {object} ProxyStats
 * @property {number} accepted     connections accepted since start
 * @property {number} forwarded    of those, connections that were forwarded to the target
 * @property {number} cut          connections ended by pause() or block()
 * @property {number} open         connections open now
 */

/**
 * TcpProxy forwards connections from its own port to a target port until paused or closed. Create it with
 * startTcpProxy().
 */
export class TcpProxy {
  /**
   * @param {import("node:net").Server} server
   * @param {number} port
   * @param {string} host
   * @param {number} target
   * @param {string} targetHost
   */
  constructor(server, port, host, target, targetHost) {
    /** @readonly */
    this.server = server;
    /** Port the proxy listens on: the one to advertise to clients. @readonly */
    this.port = port;
    /** @readonly */
    this.host = host;
    /** @readonly */
    this.target = target;
    /** @readonly */
    this.targetHost = targetHost;
    /** @type {PauseMode | undefined} set while paused */
    this.pauseMode = undefined;
    /** @type {Set<number>} processes whose connections are refused */
    this.blockedPids = new Set();
    /** @type {Set<Link>} */
    this.links = new Set();
    /** @type {ProxyStats} */
    this.stats = { accepted: 0, forwarded: 0, cut: 0, open: 0 };
    server.on("connection", (socket) => this.accept(socket));
  }

  /** url is "http://host:port" of the proxy, for advertising it as a peer or client URL. */
  get url() {
    return `http://${this.host}:${this.port}`;
  }

  /** paused tells whether pause() is in effect. */
  get paused() {
    return this.pauseMode !== undefined;
  }

  /**
   * pause cuts every connection through the proxy and, until resume(), refuses or drops new ones.
   * @param {{mode?: PauseMode}} [options]
   */
  pause(options = {}) {
    this.pauseMode = options.mode ?? "refuse";
    for (const link of [...this.links]) this.cut(link);
  }

  /** resume heals the partition: new connections are forwarded again (held "drop" connections are ended). */
  resume() {
    this.pauseMode = undefined;
    for (const link of [...this.links]) if (link.upstream === undefined) this.cut(link);
  }

  /**
   * block cuts the connections that process `pid` opened through this proxy and refuses its new ones, until
   * unblock(pid). Only on Linux (the source of a loopback connection is found through /proc); elsewhere it
   * throws.
   * @param {number} pid
   */
  block(pid) {
    if (process.platform !== "linux") throw new Error("TcpProxy.block needs Linux (/proc)");
    this.blockedPids.add(pid);
    for (const link of [...this.links]) {
      if (sourcePid(link.client, [pid]) === pid) this.cut(link);
    }
  }

  /** @param {number} pid */
  unblock(pid) {
    this.blockedPids.delete(pid);
  }

  /**
   * close stops listening and ends every connection.
   * @returns {Promise<void>}
   */
  close() {
    for (const link of [...this.links]) this.cut(link, false);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * @param {import("node:net").Socket} client
   */
  accept(client) {
    this.stats.accepted++;
    client.on("error", () => {
      // the peer reset the connection; the link is ended below
    });
    if (this.pauseMode === "refuse" || this.links.size >= MAX_CONNECTIONS) {
      client.resetAndDestroy();
      return;
    }
    if (this.blockedPids.size > 0 && sourcePid(client, [...this.blockedPids]) !== undefined) {
      client.resetAndDestroy();
      return;
    }
    /** @type {Link} */
    const link = { client, upstream: undefined };
    this.links.add(link);
    this.stats.open = this.links.size;
    client.on("close", () => this.cut(link, false));
    if (this.pauseMode === "drop") {
      client.resume(); // read and discard, never answer
      return;
    }
    const upstream = createConnection({ port: this.target, host: this.targetHost });
    link.upstream = upstream;
    this.stats.forwarded++;
    upstream.on("error", () => {
      // the target refused or reset; the client side is ended below
    });
    upstream.on("close", () => this.cut(link, false));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /**
   * cut ends both sides of a link with a reset, so neither process mistakes it for an orderly close.
   * @param {Link} link
   * @param {boolean} [counted] whether this is a cut by pause/block (for stats)
   */
  cut(link, counted = true) {
    if (!this.links.delete(link)) return;
    if (counted) this.stats.cut++;
    this.stats.open = this.links.size;
    abort(link.client);
    if (link.upstream !== undefined) abort(link.upstream);
  }
}

/**
 * abort ends a socket with a TCP reset when it can. A socket whose writable side was already ended (pipe()
 * ends it when the other side ends) is destroyed instead: Node 20 cannot reset a socket with a shutdown under
 * way, and such a handle is then never closed, which makes the process spin forever on exit.
 * @param {import("node:net").Socket} socket
 */
function abort(socket) {
  if (socket.destroyed) return;
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

/**
 * @typedef {object} Link
 * @property {import("node:net").Socket} client
 * @property {import("node:net").Socket | undefined} upstream  undefined while held by a "drop" pause
 */

/**
 * startTcpProxy listens and returns the running proxy.
 * @param {TcpProxyOptions} options
 * @returns {Promise<TcpProxy>}
 */
export function startTcpProxy(options) {
  const host = options.host ?? "127.0.0.1";
  const targetHost = options.targetHost ?? "127.0.0.1";
  const server = createServer({ noDelay: true });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      resolve(new TcpProxy(server, port, host, options.target, targetHost));
    });
  });
}

/**
 * sourcePid finds which of `candidates` owns the other end of a loopback connection accepted by the proxy:
 * the dialer's socket is the /proc/net/tcp entry whose local address is our remote one, and the process that
 * has that socket's inode among its file descriptors is the dialer. Returns undefined when none of them does
 * (or the lookup is not possible).
 * @param {import("node:net").Socket} socket
 * @param {number[]} candidates
 * @returns {number | undefined}
 */
export function sourcePid(socket, candidates) {
  const port = socket.remotePort;
  const ourPort = socket.localPort;
  if (port === undefined || ourPort === undefined) return undefined;
  const inode = socketInode(port, ourPort);
  if (inode === undefined) return undefined;
  const needle = `socket:[${inode}]`;
  for (const pid of candidates) {
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === needle) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/**
 * socketInode returns the inode of the TCP socket with local port `localPort` connected to remote port
 * `remotePort` (both on loopback, IPv4 or IPv6 tables).
 * @param {number} localPort
 * @param {number} remotePort
 * @returns {string | undefined}
 */
function socketInode(localPort, remotePort) {
  const local = `:${localPort.toString(16).toUpperCase().padStart(4, "0")}`;
  const remote = `:${remotePort.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f[1]?.endsWith(local) && f[2]?.endsWith(remote)) return f[9];
    }
  }
  return undefined;
}
