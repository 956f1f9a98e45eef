// Free loopback ports for members and proxies.

import { createServer } from "node:net";
import { freePort as reservedPort } from "@etcd-ts/test-support";

/**
 * freePort returns a loopback port reserved machine-wide (see @etcd-ts/test-support: below the ephemeral range,
 * never handed to two processes at once); `taken` lets a caller that needs several at once keep its own list.
 * @param {Set<number>} [taken] ports already handed out (the result is added to it)
 * @returns {Promise<number>}
 */
export async function freePort(taken = new Set()) {
  for (;;) {
    const port = await reservedPort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/**
 * portInUse tells whether something accepts connections on 127.0.0.1:port.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
export function portInUse(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}
