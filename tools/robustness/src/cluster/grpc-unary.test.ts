import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KV, RangeRequestSchema, RangeResponseSchema } from "@etcd-ts/proto/etcdserverpb";
import { KeyValueSchema } from "@etcd-ts/proto/mvccpb";
import { freePort, releasePort } from "@etcd-ts/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { isRefusedConnection } from "./etcd-client.js";
import { grpcFrame as frame, GrpcError, UnaryGrpc } from "./grpc-unary.js";

/**
 * A gRPC server for KV.Range that answers by the request's key: "ok" a range answer echoing the key,
 * "fail" grpc-status 11 with an etcd message, "only" a trailers-only error, "silent" never answers,
 * "reset" resets the stream, "short" a truncated frame. It records the paths and grpc-timeout headers.
 */
async function fakeServer() {
  const seen: Array<{ path: string; timeout: string | undefined }> = [];
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    seen.push({ path: String(headers[":path"]), timeout: headers["grpc-timeout"] as string | undefined });
    stream.on("error", () => undefined); // the "reset" case resets its own stream
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const all = Buffer.concat(chunks);
      const req = fromBinary(RangeRequestSchema, all.subarray(5, 5 + all.readUInt32BE(1)));
      const key = Buffer.from(req.key).toString();
      if (key === "silent") return;
      if (key === "reset") {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      if (key === "badmsg" || key === "nostatus") {
        const trailers =
          key === "badmsg" ? { "grpc-status": "2", "grpc-message": "100%" } : { "grpc-status": "x" };
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", ...trailers },
          { endStream: true },
        );
        return;
      }
      if (key === "only") {
        stream.respond(
          {
            ":status": 200,
            "content-type": "application/grpc",
            "grpc-status": "9",
            "grpc-message": "only%20trailers",
          },
          { endStream: true },
        );
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () =>
        stream.sendTrailers(
          key === "fail"
            ? {
                "grpc-status": "11",
                "grpc-message": "etcdserver:%20mvcc:%20required%20revision%20is%20a%20future%20revision",
              }
            : { "grpc-status": "0" },
        ),
      );
      if (key === "fail") {
        stream.end();
        return;
      }
      const answer = toBinary(
        RangeResponseSchema,
        create(RangeResponseSchema, {
          header: { revision: 7n },
          kvs: [create(KeyValueSchema, { key: req.key, value: new Uint8Array([1, 2]), modRevision: 7n })],
          count: 1n,
        }),
      );
      const framed = frame(answer);
      stream.end(key === "short" ? framed.subarray(0, framed.length - 1) : framed);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, seen, url: `http://127.0.0.1:${port}` };
}

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

const key = (k: string) => new TextEncoder().encode(k);

describe("UnaryGrpc", () => {
  it("sends a framed request to the method's path and decodes the answer", async () => {
    const { server, seen, url } = await fakeServer();
    open.push(server);
    const client = new UnaryGrpc(url);
    open.push(client);
    const res = await client.call(KV.method.range, { key: key("ok") }, 2000);
    expect(res.header?.revision).toBe(7n);
    expect(res.kvs.map((kv) => Buffer.from(kv.key).toString())).toEqual(["ok"]);
    expect([...(res.kvs[0]?.value ?? [])]).toEqual([1, 2]);
    expect(seen).toEqual([{ path: "/etcdserverpb.KV/Range", timeout: "2000m" }]);
  });

  it("turns a non-OK grpc-status into a GrpcError with etcd's decoded message", async () => {
    const { server, url } = await fakeServer();
    open.push(server);
    const client = new UnaryGrpc(url);
    open.push(client);
    const err = await client.call(KV.method.range, { key: key("fail") }, 2000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect((err as GrpcError).code).toBe(11);
    expect((err as GrpcError).rawMessage).toBe("etcdserver: mvcc: required revision is a future revision");
    const only = await client.call(KV.method.range, { key: key("only") }, 2000).catch((e: unknown) => e);
    expect(only).toMatchObject({ code: 9, rawMessage: "only trailers" });
    // A malformed escape in grpc-message is kept as sent; a grpc-status that is no number is no status.
    const bad = await client.call(KV.method.range, { key: key("badmsg") }, 2000).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 2, rawMessage: "100%" });
    await expect(client.call(KV.method.range, { key: key("nostatus") }, 2000)).rejects.toThrow(
      /without a status/,
    );
    // The session is still usable after errors.
    await expect(client.call(KV.method.range, { key: key("ok") }, 2000)).resolves.toBeDefined();
  });

  it("fails a call that gets no answer in time, a reset stream and a truncated frame", async () => {
    const { server, url } = await fakeServer();
    open.push(server);
    const client = new UnaryGrpc(url);
    open.push(client);
    const started = Date.now();
    await expect(client.call(KV.method.range, { key: key("silent") }, 300)).rejects.toThrow(
      /deadline exceeded/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await expect(client.call(KV.method.range, { key: key("reset") }, 2000)).rejects.toThrow();
    await expect(client.call(KV.method.range, { key: key("short") }, 2000)).rejects.toThrow(/frame of/);
  });

  it("reports a refused connection as ECONNREFUSED and reconnects once the server is back", async () => {
    const port = await freePort();
    try {
      const client = new UnaryGrpc(`http://127.0.0.1:${port}`);
      open.push(client);
      const refused = await client.call(KV.method.range, { key: key("ok") }, 2000).catch((e: unknown) => e);
      expect(String(refused)).toMatch(/ECONNREFUSED/);
      expect(isRefusedConnection(refused)).toBe(true);
      const server = http2.createServer((req, res) => {
        if (req.url.endsWith("/Put")) {
          req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
          return;
        }
        res.writeHead(200, { "content-type": "application/grpc" });
        res.addTrailers({ "grpc-status": "0" });
        res.end(frame(toBinary(RangeResponseSchema, create(RangeResponseSchema, { count: 3n }))));
      });
      open.push(server);
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      const res = await client.call(KV.method.range, { key: key("x") }, 2000);
      expect(res.count).toBe(3n);
      // A failure on the new session is its own, not the refused connection's (whose requests never left).
      const reset = await client.call(KV.method.put, { key: key("x") }, 2000).catch((e: unknown) => e);
      expect(String(reset)).not.toMatch(/ECONNREFUSED/);
      expect(isRefusedConnection(reset)).toBe(false);
      expect(isRefusedConnection(new GrpcError(13, "dial tcp: connect: ECONNREFUSED"))).toBe(false);
    } finally {
      releasePort(port);
    }
  });
});
