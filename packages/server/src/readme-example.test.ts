import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV, PutRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { tempDir } from "@etcd-ts/test-support";
import { expect, it } from "vitest";
import { defaultConfig, EtcdServer } from "./index.js";

// The README example, run as written (with a fresh temp dir).
it("runs the README example", async () => {
  const server = new EtcdServer({
    ...defaultConfig("example"),
    dataDir: tempDir("example"),
    listenClientUrls: ["http://127.0.0.1:0"],
    listenPeerUrls: ["http://127.0.0.1:0"],
    initialAdvertisePeerUrls: ["http://127.0.0.1:0"],
    advertiseClientUrls: ["http://127.0.0.1:0"],
    logLevel: "warn",
  });
  await server.start();
  while (!server.isLeader) await new Promise((r) => setTimeout(r, 10));
  const kv = createClient(KV, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.clientPorts[0]}` }));
  const utf8 = new TextEncoder();
  await kv.put(create(PutRequestSchema, { key: utf8.encode("foo"), value: utf8.encode("bar") }));
  const res = await kv.range({ key: utf8.encode("foo") });
  expect(new TextDecoder().decode(res.kvs[0]?.value)).toBe("bar");
  await server.stop();
});
