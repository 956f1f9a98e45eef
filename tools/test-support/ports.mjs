// Ports for test servers (and tools/cluster's local clusters) on 127.0.0.1.
//
// Asking the kernel for port 0 and closing the socket again hands out a port that is free *now*: before
// the server process that will use it has started (a Node process takes a second under load), another test
// worker can be handed the same port, or an outgoing connection can take it as its local port. Both happened
// in CI (EADDRINUSE at a member's start). So ports come from below the ephemeral range, which the kernel never
// picks for outgoing connections or port 0, and each one is reserved machine-wide by creating a file named
// after it (O_EXCL) in a shared directory. The owning process touches its reservations every REFRESH_MS (so a
// member restarted on its old port after a long test still has it); one not touched for STALE_MS belongs to
// a process that is gone and is taken over.

import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  utimesSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How often the owner refreshes its reservations. */
const REFRESH_MS = 30 * 1000;
/** A reservation not refreshed for this long is stale (its process is gone). */
const STALE_MS = 3 * 60 * 1000;
/** Attempts before giving up (each is a file create and, when that succeeds, a bind). */
const MAX_ATTEMPTS = 2000;
/** The range used when the ephemeral range cannot be read or leaves too little room below it. */
const FALLBACK = { low: 20000, high: 32767 };

const reservationDir = join(tmpdir(), "etcd-ts-ports");
/** mine are the ports this process reserved (removed again when it exits). */
const mine = new Set();
/** refreshing tells whether the refresh timer runs (started with the first reservation). */
let refreshing = false;

/** ensureReservationDir creates the shared directory, writable by every user (sticky, like /tmp). */
function ensureReservationDir() {
  mkdirSync(reservationDir, { recursive: true });
  try {
    if ((statSync(reservationDir).mode & 0o1777) !== 0o1777) chmodSync(reservationDir, 0o1777);
  } catch {
    // Another user's directory: it was made writable by its creator.
  }
}

/** @returns {{ low: number; high: number }} */
export function portRange() {
  try {
    const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (ephemeralLow !== undefined && Number.isInteger(ephemeralLow) && ephemeralLow - 1 - 10000 >= 4096) {
      return { low: 10000, high: ephemeralLow - 1 };
    }
  } catch {
    // Not Linux, or no /proc: use the fallback.
  }
  return FALLBACK;
}

/** @returns {Promise<number>} */
export async function freePort() {
  const { low, high } = portRange();
  const size = high - low + 1;
  ensureReservationDir();
  let candidate = low + Math.floor(Math.random() * size);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    candidate = low + ((candidate - low + 1 + Math.floor(Math.random() * 64)) % size);
    if (mine.has(candidate) || !reserve(candidate)) continue;
    if (await bindable(candidate)) {
      mine.add(candidate);
      if (!refreshing) {
        refreshing = true;
        setInterval(refresh, REFRESH_MS).unref();
      }
      return candidate;
    }
    unlinkQuietly(candidate);
  }
  throw new Error(`no free port in ${low}-${high} after ${MAX_ATTEMPTS} attempts`);
}

/** @param {number} port */
export function releasePort(port) {
  if (mine.delete(port)) unlinkQuietly(port);
}

/**
 * tryReserve reserves one given port for this process if no live reservation holds it (for tests; callers
 * use freePort). It does not check that the port can be bound.
 * @param {number} port
 * @returns {boolean}
 */
export function tryReserve(port) {
  ensureReservationDir();
  if (mine.has(port) || !reserve(port)) return false;
  mine.add(port);
  return true;
}

/**
 * reserve creates the port's reservation file. A stale one (not refreshed for STALE_MS) is taken over
 * under a lock directory, so that two processes taking over the same stale file never both win.
 * @param {number} port
 */
function reserve(port) {
  const file = join(reservationDir, String(port));
  try {
    closeSync(openSync(file, "wx"));
    return true;
  } catch (err) {
    const code = /** @type {NodeJS.ErrnoException} */ (err).code;
    if (code === "EACCES" || code === "EPERM") return false; // another user's reservation
    if (code !== "EEXIST") throw err;
  }
  if (!isStale(file)) return false;
  const lock = `${file}.takeover`;
  try {
    mkdirSync(lock);
  } catch {
    // Another process is taking it over (or left its lock behind; that clears when it is stale).
    if (isStale(lock)) rmQuietly(lock);
    return false;
  }
  try {
    if (!isStale(file)) return false; // taken over (or refreshed) before we held the lock
    unlinkQuietly(port);
    closeSync(openSync(file, "wx")); // throws EEXIST when a plain create won the race: not ours then
    return true;
  } catch {
    return false;
  } finally {
    rmQuietly(lock);
  }
}

/**
 * isStale tells whether `path` was not touched for STALE_MS; a path that is gone is not stale (it was
 * released or taken over in between: the caller tries the next port).
 * @param {string} path
 */
function isStale(path) {
  try {
    return Date.now() - statSync(path).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}

/** @param {string} path */
function rmQuietly(path) {
  try {
    rmdirSync(path);
  } catch {
    // Gone already.
  }
}

/** refresh touches this process's reservations, so that no other process takes them for stale. */
function refresh() {
  const now = new Date();
  for (const port of mine) {
    try {
      utimesSync(join(reservationDir, String(port)), now, now);
    } catch {
      // Removed by hand: the next freePort elsewhere may take it; nothing to do here.
    }
  }
}

/** @param {number} port */
function unlinkQuietly(port) {
  try {
    unlinkSync(join(reservationDir, String(port)));
  } catch {
    // Already gone.
  }
}

/**
 * bindable tells whether 127.0.0.1:port can be listened on now.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function bindable(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

process.once("exit", () => {
  for (const port of mine) unlinkQuietly(port);
});
