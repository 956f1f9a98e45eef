import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "./client.js";
import type { TransportFactory } from "./endpoint-transport.js";
import { BACKENDS, startServer, type TestServer } from "./testing/servers.js";
import { singleRequestStreams } from "./transport-browser.js";
import { createDefaultTransport as nodeTransport } from "./transport-node.js";
import type { WatchEvent } from "./watch.js";

async function exercise(client: EtcdClient, prefix: string): Promise<void> {
  await client.put(`${prefix}/a`, "1");
  expect(await client.getString(`${prefix}/a`)).toBe("1");
  const watcher = client.watch(`${prefix}/`, { prefix: true });
  await watcher.ready;
  // Let the stream sit idle first: it must stay open after the client's (half-duplex) request side is done.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const seen: WatchEvent[] = [];
  const two = new Promise<void>((resolve) =>
    watcher.on("event", (e) => {
      seen.push(e);
      if (seen.length === 2) resolve();
    }),
  );
  await client.put(`${prefix}/b`, "2");
  await client.delete(`${prefix}/a`);
  await two;
  expect(seen.map((e) => `${e.type} ${e.kv.keyString}`)).toEqual([`put ${prefix}/b`, `delete ${prefix}/a`]);
  await watcher.cancel();
  const lease = await client.lease.grant(5);
  const keepAlive = client.lease.keepAlive(lease.id, { ttlSeconds: lease.ttlSeconds });
  const renewed = await new Promise((resolve) => keepAlive.once("keepalive", resolve));
  expect(renewed).toEqual({ id: lease.id, ttlSeconds: lease.ttlSeconds });
  keepAlive.stop();
  await client.lease.revoke(lease.id);
}

describe("gRPC-Web and Connect over HTTP/2 (etcd-ts serves all three protocols)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("etcd-ts");
  });
  afterAll(async () => {
    await server?.destroy();
  });

  for (const protocol of ["grpc-web", "connect"] as const) {
    it(`speaks ${protocol}: KV, watch, lease keep-alive`, async () => {
      const client = new EtcdClient({ endpoints: [server.endpoint], protocol });
      try {
        await exercise(client, protocol);
      } finally {
        client.close();
      }
    });
  }

  it("sends bidi calls as one-request server streams, as the browser (fetch) transport does", async () => {
    // fetch itself cannot reach this server from Node (no HTTP/1.1 on the client port: HTTP 505), so the
    // browser transport's stream adapter runs here over connect-node's gRPC-Web transport instead.
    const client = new EtcdClient({
      endpoints: [server.endpoint],
      transport: (settings) => {
        const inner = nodeTransport({ ...settings, protocol: "grpc-web" });
        return { ...inner, fullDuplex: false, transport: singleRequestStreams(inner.transport) };
      },
    });
    try {
      await exercise(client, "browser");
    } finally {
      client.close();
    }
  });
});

/** halfDuplex is the Node gRPC transport flagged half-duplex: the client takes its browser code paths. */
const halfDuplex: TransportFactory = (settings) => ({ ...nodeTransport(settings), fullDuplex: false });

describe.each(BACKENDS)(
  "half-duplex streams (the browser's watch and keep-alive paths) against %s",
  (backend) => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer(backend);
    });
    afterAll(async () => {
      await server?.destroy();
    });

    it("watches over one stream per watcher and renews leases one request at a time", async () => {
      const client = new EtcdClient({ endpoints: [server.endpoint], transport: halfDuplex });
      try {
        await exercise(client, "half");
        expect(client.requestWatchProgress()).toBe(false);
      } finally {
        client.close();
      }
    });
  },
);
