import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "./client.js";
import { normalizeEndpoint } from "./connection.js";
import {
  CanceledError,
  ClientClosedError,
  DeadlineExceededError,
  EndpointUnavailableError,
} from "./errors.js";
import { freePort, startServer, type TestServer } from "./testing/servers.js";

describe("normalizeEndpoint", () => {
  it("adds the scheme and keeps host and port", () => {
    expect(normalizeEndpoint("127.0.0.1:2379", false)).toBe("http://127.0.0.1:2379");
    expect(normalizeEndpoint("127.0.0.1:2379", true)).toBe("https://127.0.0.1:2379");
    expect(normalizeEndpoint("https://example.com:1/", false)).toBe("https://example.com:1");
    expect(() => normalizeEndpoint("unix:///tmp/sock", false)).toThrow(/scheme/);
  });
});

describe("failover, deadlines and cancellation (etcd-ts)", () => {
  let server: TestServer;
  let deadEndpoint: string;
  beforeAll(async () => {
    server = await startServer("etcd-ts");
    deadEndpoint = `127.0.0.1:${await freePort()}`;
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it("skips an endpoint that refuses connections, for reads and (never sent) writes alike", async () => {
    const client = new EtcdClient({
      endpoints: [deadEndpoint, server.endpoint],
      retry: { initialMs: 1, maxMs: 5 },
    });
    try {
      await client.put("f/k", "v");
      expect(client.endpoints[0]).toBe(`http://${server.endpoint}`);
      expect(await client.getString("f/k")).toBe("v");
    } finally {
      client.close();
    }
  });

  it("gives up with EndpointUnavailableError when no endpoint answers", async () => {
    const client = new EtcdClient({
      endpoints: [deadEndpoint],
      retry: { maxAttempts: 3, initialMs: 1, maxMs: 5 },
    });
    try {
      await expect(client.get("x")).rejects.toBeInstanceOf(EndpointUnavailableError);
    } finally {
      client.close();
    }
  });

  it("rejects with CanceledError when the signal aborts, and DeadlineExceededError past the deadline", async () => {
    const client = new EtcdClient({ endpoints: [server.endpoint] });
    try {
      const controller = new AbortController();
      controller.abort();
      await expect(client.get("x", { signal: controller.signal })).rejects.toBeInstanceOf(CanceledError);
      // A spent deadline fails before anything is sent (blocking calls past their deadline: mutex.test.ts).
      await expect(client.txn().commit({ timeoutMs: 0 })).rejects.toBeInstanceOf(DeadlineExceededError);
    } finally {
      client.close();
    }
  });

  it("fails calls and watchers with ClientClosedError after close()", async () => {
    const client = new EtcdClient({ endpoints: [server.endpoint] });
    const w = client.watch("closed/");
    await w.ready;
    const failed = new Promise((resolve) => w.once("error", resolve));
    client.close();
    expect(await failed).toBeInstanceOf(ClientClosedError);
    await expect(client.get("x")).rejects.toBeInstanceOf(ClientClosedError);
  });
});
