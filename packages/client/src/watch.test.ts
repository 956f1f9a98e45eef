import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "./client.js";
import { WatchCompactedError } from "./errors.js";
import { BACKENDS, startServer, type TestServer } from "./testing/servers.js";
import type { WatchEvent } from "./watch.js";

/** within fails with `describe()` if `promise` has not settled after `ms` (a clear failure instead of a hang). */
async function within<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms: ${describe()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function take(iterable: AsyncIterable<WatchEvent>, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  if (n === 0) return out;
  for await (const event of iterable) {
    out.push(event);
    if (out.length === n) break;
  }
  return out;
}

describe.each(BACKENDS)("watch against %s", (backend) => {
  let server: TestServer;
  let client: EtcdClient;
  beforeAll(async () => {
    server = await startServer(backend);
    client = new EtcdClient({ endpoints: [server.endpoint], retry: { maxAttempts: 50, maxMs: 200 } });
  });
  afterAll(async () => {
    client?.close();
    await server?.destroy();
  });

  it("multiplexes watchers on one stream and delivers puts and deletes in order (async iterator)", async () => {
    const a = client.watch("w1/", { prefix: true, prevKv: true });
    const b = client.watch("w1/b");
    await Promise.all([a.ready, b.ready]);
    await client.put("w1/a", "1");
    await client.put("w1/b", "2");
    await client.put("w1/a", "3");
    await client.delete("w1/a");
    const eventsA = await take(a, 4);
    expect(eventsA.map((e) => `${e.type} ${e.kv.keyString} ${e.kv.valueString}`)).toEqual([
      "put w1/a 1",
      "put w1/b 2",
      "put w1/a 3",
      "delete w1/a ",
    ]);
    expect(eventsA[2]?.prevKv?.valueString).toBe("1");
    const eventsB = await take(b, 1);
    expect(eventsB[0]?.kv.valueString).toBe("2");
    await a.cancel();
    await b.cancel();
    expect(a.done && b.done).toBe(true);
  });

  it("emits events, filters, and replays history from a start revision", async () => {
    const first = await client.put("w2/k", "a");
    await client.put("w2/k", "b");
    await client.delete("w2/k");
    const seen: string[] = [];
    const w = client.watch("w2/k", { startRevision: first.header.revision, noDelete: true });
    const done = new Promise<void>((resolve) => {
      w.on("put", (e) => {
        seen.push(e.kv.valueString);
        if (seen.length === 3) resolve();
      });
    });
    await w.ready;
    await client.put("w2/k", "c");
    await done;
    expect(seen).toEqual(["a", "b", "c"]);
    await w.cancel();
  });

  it("fails a watcher whose start revision was compacted with WatchCompactedError", async () => {
    const a = await client.put("w3/k", "1");
    const b = await client.put("w3/k", "2");
    await client.compact(b.header.revision);
    const w = client.watch("w3/k", { startRevision: a.header.revision });
    const failure = await take(w, 1).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WatchCompactedError);
    expect((failure as WatchCompactedError).compactRevision).toBe(b.header.revision);
  });

  it("answers progress requests with the current revision", async () => {
    const w = client.watch("w4/k");
    await w.ready;
    const put = await client.put("w4/other", "x");
    const progress = new Promise<bigint>((resolve) => w.once("progress", resolve));
    expect(client.requestWatchProgress()).toBe(true);
    expect(await progress).toBeGreaterThanOrEqual(put.header.revision);
    await w.cancel();
  });

  it("resumes after the server restarts mid-stream: every revision exactly once", async () => {
    const w = client.watch("w5/", { prefix: true });
    await w.ready;
    const received: bigint[] = [];
    const iterate = (async () => {
      for await (const event of w) {
        received.push(event.kv.modRevision);
        if (event.kv.keyString === "w5/last") break;
      }
    })();
    const written: bigint[] = [];
    const writer = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        // A put that fails mid-restart may or may not have been applied; retry until acknowledged, then
        // compare against the store's own history below.
        for (;;) {
          try {
            written.push((await client.put(`w5/${i}`, String(i))).header.revision);
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }
    };
    const state = () =>
      `written ${written.length} received ${received.length} next ${w.nextRevision} done ${w.done}\n${server.output().slice(-2000)}`;
    await within(writer(0, 20), 20_000, state);
    const disconnected = new Promise((resolve) => w.once("disconnected", resolve));
    await server.stop("SIGKILL");
    await within(disconnected, 10_000, () => `disconnect: ${state()}`);
    await server.start();
    await within(writer(20, 40), 20_000, () => `writer: ${state()}`);
    await client.put("w5/last", "end");
    await within(iterate, 10_000, () => `iterate: ${state()}`);
    // The store's history for the prefix is the ground truth: one event per revision, none missing.
    const history = await client.get("w5/", { prefix: true });
    const expected = history.kvs.map((kv) => kv.modRevision).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    expect(received).toEqual(expected);
    expect(new Set(received).size).toBe(received.length);
    for (const rev of written) expect(received).toContain(rev);
  });

  it("resumes after the connection drops again and again during a stream of puts: every revision exactly once", async () => {
    const watching = new EtcdClient({ endpoints: [server.endpoint], retry: { initialMs: 5, maxMs: 50 } });
    try {
      const w = watching.watch("w6/", { prefix: true });
      await w.ready;
      const received: bigint[] = [];
      const written: bigint[] = [];
      let drops = 0;
      w.on("disconnected", () => drops++);
      w.on("put", (e) => received.push(e.kv.modRevision));
      for (let i = 0; i < 60; i++) {
        written.push((await client.put(`w6/${i % 7}`, String(i))).header.revision);
        // Cut the watching client's connection (as a network failure would) every few writes.
        if (i % 10 === 5) watching.connection.endpointFor(server.endpoint).close();
      }
      const last = written[written.length - 1] as bigint;
      await new Promise<void>((resolve) => {
        if (received.includes(last)) resolve();
        else w.on("put", (e) => e.kv.modRevision === last && resolve());
      });
      expect(drops).toBeGreaterThanOrEqual(3);
      expect(received).toEqual(written);
      await w.cancel();
    } finally {
      watching.close();
    }
  });
});
