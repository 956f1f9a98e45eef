import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV, Watch, type WatchRequest, WatchRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { tempDir } from "@etcd-ts/test-support";
import { expect, it } from "vitest";
import { defaultConfig } from "./config.js";
import { EtcdServer } from "./etcd-server.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

// --watch-progress-notify-interval: a synced watcher created with progress_notify gets empty responses
// carrying the current revision, and one without it gets none.
it("sends periodic progress notifications to watchers that asked for them", async () => {
  const server = new EtcdServer({
    ...defaultConfig("progress"),
    dataDir: tempDir("progress"),
    listenClientUrls: ["http://127.0.0.1:0"],
    listenPeerUrls: ["http://127.0.0.1:0"],
    initialAdvertisePeerUrls: ["http://127.0.0.1:0"],
    advertiseClientUrls: ["http://127.0.0.1:0"],
    heartbeatIntervalMs: 20,
    electionTimeoutMs: 200,
    watchProgressNotifyIntervalMs: 100,
    logLevel: "error",
  });
  await server.start();
  try {
    for (let i = 0; i < 200 && !server.isLeader; i++) await new Promise((r) => setTimeout(r, 10));
    const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.clientPorts[0]}` });
    await createClient(KV, transport).put({ key: utf8("p"), value: utf8("1") });
    const abort = new AbortController();
    async function* requests(): AsyncIterable<WatchRequest> {
      yield create(WatchRequestSchema, {
        requestUnion: { case: "createRequest", value: { key: utf8("p"), progressNotify: true, watchId: 1n } },
      });
      yield create(WatchRequestSchema, {
        requestUnion: { case: "createRequest", value: { key: utf8("q"), watchId: 2n } },
      });
      await new Promise((resolve) => abort.signal.addEventListener("abort", resolve));
    }
    const seen: Array<{ watchId: bigint; created: boolean; events: number; revision: bigint }> = [];
    const stream = createClient(Watch, transport).watch(requests(), { signal: abort.signal });
    try {
      for await (const res of stream) {
        seen.push({
          watchId: res.watchId,
          created: res.created,
          events: res.events.length,
          revision: res.header?.revision ?? 0n,
        });
        if (seen.filter((s) => !s.created).length >= 2) break;
      }
    } finally {
      abort.abort();
    }
    const progress = seen.filter((s) => !s.created);
    expect(progress.every((s) => s.watchId === 1n && s.events === 0 && s.revision === 2n)).toBe(true);
    expect(progress).toHaveLength(2);
  } finally {
    await server.stop();
  }
}, 30_000);
