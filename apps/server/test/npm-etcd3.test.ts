import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Member, startMember, tempDir } from "./harness.js";

// The npm `etcd3` client (over @grpc/grpc-js) against etcd-ts, unchanged.
describe("npm etcd3 client", () => {
  let member: Member;
  let client: Etcd3;

  beforeAll(async () => {
    member = await startMember({ dataDir: tempDir("npm") });
    client = new Etcd3({ hosts: `http://${member.endpoint}` });
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await member?.stop();
  });

  it("puts, gets, lists by prefix, deletes and runs a transaction", async () => {
    await client.put("/npm/a").value("1");
    await client.put("/npm/b").value("2");
    expect(await client.get("/npm/a").string()).toBe("1");
    expect(await client.getAll().prefix("/npm/").strings()).toEqual({ "/npm/a": "1", "/npm/b": "2" });
    const txn = await client.if("/npm/a", "Value", "==", "1").then(client.put("/npm/a").value("3")).commit();
    expect(txn.succeeded).toBe(true);
    expect(await client.get("/npm/a").string()).toBe("3");
    await client.delete().key("/npm/b");
    expect(await client.get("/npm/b").string()).toBeNull();
  });

  it("watches a key", async () => {
    const watcher = await client.watch().key("/npm/w").create();
    const seen = new Promise<string>((resolve) => watcher.on("put", (kv) => resolve(kv.value.toString())));
    await client.put("/npm/w").value("event");
    expect(await seen).toBe("event");
    await watcher.cancel();
  });

  it("grants a lease with keep-alive and revokes it", async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    await lease.put("/npm/l").value("x");
    const keepAlive = await lease.keepaliveOnce();
    expect(Number(keepAlive.TTL)).toBe(30);
    await lease.revoke();
    expect(await client.get("/npm/l").string()).toBeNull();
  });

  it("takes a lock", async () => {
    const lock = client.lock("/npm/mutex");
    await lock.acquire();
    expect(await client.getAll().prefix("/npm/mutex").keys()).toHaveLength(1);
    await lock.release();
    expect(await client.getAll().prefix("/npm/mutex").keys()).toHaveLength(0);
  });
});
