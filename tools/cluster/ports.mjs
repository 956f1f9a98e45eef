// Free loopback ports for members and proxies.

import { createServer } from "node:net";

/**
 * freePort asks the kernel for an unused port on 127.0.0.1. The port is released before it is returned, so
 * another process could take it in between; `taken` lets a caller that needs several at once avoid handing out
 * the same one twice.
 * @param {Set<number>} [taken] ports already handed out (the result is added to it)
 * @returns {Promise<number>}
 */
export async function freePort(taken = new Set()) {
  for (;;) {
    const port = await probe();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/** @returns {Promise<number>} */
function probe() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
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
