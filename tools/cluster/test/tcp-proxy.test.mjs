// The TCP proxy on its own: forwarding, pause (refuse and drop), resume, and blocking one source process.

import assert from "node:assert/strict";
import { once } from "node:events";
import { createConnection, createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { startTcpProxy } from "../tcp-proxy.mjs";

/** An echo server on a free loopback port. */
async function echoServer() {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(typeof address === "object" && address !== null);
  return { server, port: address.port };
}

/**
 * roundTrip connects to port, sends text and resolves with what came back, or with "error:<code>"/"closed"
 * when the connection is refused, reset or closed first.
 * @param {number} port
 * @param {string} text
 * @returns {Promise<string>}
 */
function roundTrip(port, text) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    let got = "";
    socket.on("data", (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.end();
        resolve(got);
      }
    });
    socket.on("error", (err) => resolve(`error:${/** @type {NodeJS.ErrnoException} */ (err).code}`));
    socket.on("close", () => resolve(got === "" ? "closed" : got));
    socket.write(text);
  });
}

/**
 * openConnection returns a connected socket through `port` that has echoed once, and a promise of how it
 * ended ("error:<code>" or "closed").
 * @param {number} port
 */
async function openConnection(port) {
  const socket = createConnection({ port, host: "127.0.0.1" });
  /** @type {Promise<string>} */
  const ended = new Promise((resolve) => {
    socket.on("error", (err) => resolve(`error:${/** @type {NodeJS.ErrnoException} */ (err).code}`));
    socket.on("close", () => resolve("closed"));
  });
  socket.write("ping");
  const [data] = await once(socket, "data");
  assert.equal(data.toString(), "ping");
  return { socket, ended };
}

describe("TcpProxy", () => {
  /** @type {Awaited<ReturnType<typeof echoServer>>} */
  let echo;
  before(async () => {
    echo = await echoServer();
  });
  after(() => {
    echo.server.close();
  });

  it("forwards connections to the target", async () => {
    const proxy = await startTcpProxy({ target: echo.port });
    try {
      assert.notEqual(proxy.port, echo.port);
      assert.equal(proxy.url, `http://127.0.0.1:${proxy.port}`);
      assert.equal(await roundTrip(proxy.port, "hello"), "hello");
      assert.equal(proxy.stats.forwarded, 1);
    } finally {
      await proxy.close();
    }
  });

  it("pause cuts open connections and refuses new ones; resume heals", async () => {
    const proxy = await startTcpProxy({ target: echo.port });
    try {
      const open = await openConnection(proxy.port);
      proxy.pause();
      assert.equal(proxy.paused, true);
      assert.match(await open.ended, /^error:ECONNRESET$|^closed$/);
      assert.equal(proxy.stats.cut, 1);
      assert.match(await roundTrip(proxy.port, "x"), /^error:ECONNRESET$|^closed$/);
      // The target itself is untouched.
      assert.equal(await roundTrip(echo.port, "direct"), "direct");
      proxy.resume();
      assert.equal(proxy.paused, false);
      assert.equal(await roundTrip(proxy.port, "again"), "again");
    } finally {
      await proxy.close();
    }
  });

  it('pause({mode: "drop"}) accepts but never forwards; resume ends the held connections', async () => {
    const proxy = await startTcpProxy({ target: echo.port });
    try {
      proxy.pause({ mode: "drop" });
      const socket = createConnection({ port: proxy.port, host: "127.0.0.1" });
      socket.on("error", () => {});
      await once(socket, "connect");
      let received = "";
      socket.on("data", (d) => {
        received += d.toString();
      });
      socket.write("into the void");
      // Wait until the proxy holds the connection (accepted, nothing forwarded).
      while (proxy.stats.open === 0) await new Promise((r) => setTimeout(r, 10));
      assert.equal(proxy.stats.forwarded, 0);
      const closed = new Promise((resolve) => socket.on("close", resolve));
      proxy.resume();
      await closed;
      assert.equal(received, "");
      assert.equal(await roundTrip(proxy.port, "back"), "back");
    } finally {
      await proxy.close();
    }
  });

  it("block(pid) cuts and refuses only that process's connections (Linux)", async () => {
    const proxy = await startTcpProxy({ target: echo.port });
    try {
      const open = await openConnection(proxy.port);
      // Connections from another pid are not affected.
      proxy.block(process.pid + 1_000_000);
      assert.equal(await roundTrip(proxy.port, "still"), "still");
      proxy.block(process.pid);
      assert.match(await open.ended, /^error:ECONNRESET$|^closed$/);
      assert.match(await roundTrip(proxy.port, "x"), /^error:ECONNRESET$|^closed$/);
      proxy.unblock(process.pid);
      assert.equal(await roundTrip(proxy.port, "ok"), "ok");
    } finally {
      await proxy.close();
    }
  });
});
