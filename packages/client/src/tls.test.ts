import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "./client.js";
import { EtcdError } from "./errors.js";
import { makeCerts, type TestCerts } from "./testing/certs.js";
import { BACKENDS, startServer, type TestServer } from "./testing/servers.js";

describe.each(BACKENDS)("TLS and client certificates (mTLS) against %s", (backend) => {
  let certs: TestCerts;
  let server: TestServer;
  beforeAll(async () => {
    certs = makeCerts();
    server = await startServer(backend, { tls: certs });
  });
  afterAll(async () => {
    await server?.destroy();
    certs?.remove();
  });

  it("talks https with a client certificate: KV and watch", async () => {
    const client = new EtcdClient({
      endpoints: [server.endpoint],
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
    });
    try {
      expect(client.endpoints).toEqual([`https://${server.endpoint}`]);
      const watcher = client.watch("tls/", { prefix: true });
      await watcher.ready;
      const event = new Promise((resolve) => watcher.once("event", (e) => resolve(e.kv.valueString)));
      await client.put("tls/k", "secret");
      expect(await client.getString("tls/k")).toBe("secret");
      expect(await event).toBe("secret");
      await watcher.cancel();
    } finally {
      client.close();
    }
  });

  it("fails without a client certificate, and against an unknown CA", async () => {
    for (const tls of [{ ca: certs.ca }, { cert: certs.clientCert, key: certs.clientKey }]) {
      const client = new EtcdClient({
        endpoints: [server.endpoint],
        tls,
        dialTimeoutMs: 2_000,
        retry: { maxAttempts: 1 },
      });
      try {
        await expect(client.get("tls/k", { timeoutMs: 5_000 })).rejects.toBeInstanceOf(EtcdError);
      } finally {
        client.close();
      }
    }
  });
});
