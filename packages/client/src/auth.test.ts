import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "./client.js";
import type { TransportFactory } from "./endpoint-transport.js";
import { AuthFailedError, PermissionDeniedError, UserEmptyError } from "./errors.js";
import { BACKENDS, startServer, type TestServer } from "./testing/servers.js";
import { createDefaultTransport } from "./transport-node.js";

/** countingTransport records the names of the unary methods called, to see the client re-authenticate. */
function countingTransport(calls: string[]): TransportFactory {
  return (settings) => {
    const inner = createDefaultTransport(settings);
    return {
      ...inner,
      connect: (ms) => inner.connect(ms),
      close: () => inner.close(),
      transport: {
        unary: (method, ...rest) => {
          calls.push(method.name);
          return inner.transport.unary(method, ...rest);
        },
        stream: (...args) => inner.transport.stream(...args),
      },
    };
  };
}

describe.each(BACKENDS)("auth against %s", (backend) => {
  let server: TestServer;
  let admin: EtcdClient;
  const calls: string[] = [];
  beforeAll(async () => {
    server = await startServer(backend);
    admin = new EtcdClient({
      endpoints: [server.endpoint],
      auth: { username: "root", password: "rootpw" },
      transport: countingTransport(calls),
    });
  });
  afterAll(async () => {
    admin?.close();
    await server?.destroy();
  });

  it("works with credentials while auth is still disabled, then manages users, roles and permissions", async () => {
    await admin.put("open", "1"); // auth disabled: no token needed
    await admin.auth.userAdd("root", "rootpw");
    await admin.auth.userGrantRole("root", "root");
    await admin.auth.roleAdd("reader");
    await admin.auth.roleGrantPermission("reader", "read", "app/", { prefix: true });
    await admin.auth.userAdd("alice", "alicepw");
    await admin.auth.userGrantRole("alice", "reader");
    await admin.auth.enable();
    if (backend === "etcd") {
      // AuthStatus arrived in etcd 3.5; 3.4 answers Unimplemented.
      await expect(admin.auth.status()).rejects.toMatchObject({ code: 12 });
    } else {
      expect((await admin.auth.status()).enabled).toBe(true);
    }
    // The admin client was tokenless; the server now wants a user, so it authenticates and carries on.
    await admin.put("app/x", "1");
    expect(await admin.auth.userList()).toEqual(["alice", "root"]);
    expect((await admin.auth.userGet("alice")).roles).toEqual(["reader"]);
    const perms = await admin.auth.roleGet("reader");
    expect(
      perms.map((p) => [p.type, new TextDecoder().decode(p.key), new TextDecoder().decode(p.rangeEnd)]),
    ).toEqual([["read", "app/", "app0"]]);
    expect(await admin.auth.roleList()).toContain("reader");

    const alice = new EtcdClient({
      endpoints: [server.endpoint],
      auth: { username: "alice", password: "alicepw" },
    });
    try {
      expect(await alice.getString("app/x")).toBe("1");
      await expect(alice.put("app/x", "2")).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(alice.get("other")).rejects.toBeInstanceOf(PermissionDeniedError);
    } finally {
      alice.close();
    }
    const anonymous = new EtcdClient({ endpoints: [server.endpoint] });
    try {
      await expect(anonymous.get("app/x")).rejects.toBeInstanceOf(UserEmptyError);
    } finally {
      anonymous.close();
    }
    const wrong = new EtcdClient({
      endpoints: [server.endpoint],
      auth: { username: "alice", password: "nope" },
    });
    try {
      await expect(wrong.get("app/x")).rejects.toBeInstanceOf(AuthFailedError);
    } finally {
      wrong.close();
    }
  });

  it("renews the token when the server no longer knows it (simple tokens die with a restart)", async () => {
    expect(await admin.getString("app/x")).toBe("1");
    const before = calls.filter((name) => name === "Authenticate").length;
    await server.stop();
    await server.start();
    // The old token is now "etcdserver: invalid auth token": the client re-authenticates and retries once.
    expect(await admin.getString("app/x")).toBe("1");
    expect(calls.filter((name) => name === "Authenticate").length).toBe(before + 1);
    await admin.put("app/y", "2");
    // A watch stream re-authenticates too.
    const w = admin.watch("app/y");
    await w.ready;
    await admin.auth.disable();
  });
});
