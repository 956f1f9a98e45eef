import http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV, Lease } from "@etcd-ts/proto/etcdserverpb";
import { tempDir } from "@etcd-ts/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "./config.js";
import { EtcdServer } from "./etcd-server.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

// Bad input must get a clear error (etcd's where etcd has one) and never take the member down.
describe("bad input", () => {
  let server: EtcdServer;
  let base: string;
  let kv: ReturnType<typeof createClient<typeof KV>>;
  let lease: ReturnType<typeof createClient<typeof Lease>>;

  beforeAll(async () => {
    const dataDir = tempDir("bad");
    server = new EtcdServer({
      ...defaultConfig("bad"),
      dataDir,
      listenClientUrls: ["http://127.0.0.1:0"],
      listenPeerUrls: ["http://127.0.0.1:0"],
      initialAdvertisePeerUrls: ["http://127.0.0.1:0"],
      advertiseClientUrls: ["http://127.0.0.1:0"],
      heartbeatIntervalMs: 20,
      electionTimeoutMs: 200,
      logLevel: "error",
    });
    await server.start();
    base = `http://127.0.0.1:${server.clientPorts[0]}`;
    const transport = createGrpcTransport({ baseUrl: base });
    kv = createClient(KV, transport);
    lease = createClient(Lease, transport);
    for (let i = 0; i < 200 && !server.isLeader; i++) await new Promise((r) => setTimeout(r, 10));
  });

  afterAll(async () => {
    await server.stop();
  });

  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return ConnectError.from(err);
    }
    throw new Error("expected an error");
  };

  /** rawGrpc sends one gRPC frame with the given payload bytes and returns the grpc-status and message. */
  const rawGrpc = (method: string, payload: Buffer) =>
    new Promise<{ status: string | undefined; message: string | undefined; httpStatus: number | undefined }>(
      (resolve, reject) => {
        const session = http2.connect(base);
        session.on("error", reject);
        const frame = Buffer.alloc(5 + payload.length);
        frame.writeUInt8(0, 0);
        frame.writeUInt32BE(payload.length, 1);
        payload.copy(frame, 5);
        const req = session.request({
          ":method": "POST",
          ":path": method,
          "content-type": "application/grpc",
          te: "trailers",
        });
        let headers: http2.IncomingHttpHeaders = {};
        req.on("response", (h) => {
          headers = h;
        });
        req.on("trailers", (t) => {
          headers = { ...headers, ...t };
        });
        req.on("data", () => {});
        req.on("end", () => {
          session.close();
          resolve({
            status: headers["grpc-status"] as string | undefined,
            message: headers["grpc-message"] as string | undefined,
            httpStatus: headers[":status"] as number | undefined,
          });
        });
        req.end(frame);
      },
    );

  it("answers an unknown method with gRPC Unimplemented, not HTTP 404", async () => {
    const res = await rawGrpc("/etcdserverpb.KV/NoSuchMethod", Buffer.alloc(0));
    expect(res.httpStatus).toBe(200);
    expect(res.status).toBe(String(Code.Unimplemented));
  });

  it("rejects malformed protobuf with InvalidArgument-class errors and keeps serving", async () => {
    const res = await rawGrpc("/etcdserverpb.KV/Range", Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(res.status).not.toBe("0"); // grpc-status 0 is OK
    expect(res.status).not.toBe(undefined);
    expect((await kv.put({ key: utf8("still"), value: utf8("alive") })).header?.revision).toBeGreaterThan(0n);
  });

  it("refuses a request over --max-request-bytes with etcd's message", async () => {
    const big = await failure(kv.put({ key: utf8("big"), value: new Uint8Array(1_600_000) }));
    expect(big.code).toBe(Code.InvalidArgument);
    expect(big.rawMessage).toBe("etcdserver: request is too large");
    const huge = await failure(kv.put({ key: utf8("huge"), value: new Uint8Array(3_000_000) }));
    expect(huge.code).toBe(Code.ResourceExhausted);
  });

  it("handles negative revisions, TTLs and empty keys like etcd", async () => {
    // A negative revision reads the latest, as revision <= 0 does in etcd.
    await kv.put({ key: utf8("neg"), value: utf8("1") });
    expect((await kv.range({ key: utf8("neg"), revision: -5n })).kvs).toHaveLength(1);
    const grant = await lease.leaseGrant({ TTL: -10n });
    expect(grant.TTL).toBeGreaterThan(0n); // raised to the minimum TTL
    const empty = await failure(kv.range({ key: new Uint8Array() }));
    expect(empty.rawMessage).toBe("etcdserver: key is not provided");
    const badCompact = await failure(kv.compact({ revision: 1_000_000n }));
    expect(badCompact.rawMessage).toBe("etcdserver: mvcc: required revision is a future revision");
  });

  it("rejects invalid JSON and invalid UTF-8 on the gateway with a 400 and keeps serving", async () => {
    const broken = await fetch(`${base}/v3/kv/put`, { method: "POST", body: "{not json" });
    expect(broken.status).toBe(400);
    const body = (await broken.json()) as { code: number; message: string };
    expect(body.code).toBe(Code.InvalidArgument);
    const invalidUtf8 = await fetch(`${base}/v3/auth/user/add`, {
      method: "POST",
      body: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    });
    expect(invalidUtf8.status).toBeGreaterThanOrEqual(400);
    const ok = await fetch(`${base}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: "bmVn" }) });
    expect(ok.status).toBe(200);
  });
});
