import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { KV } from "@etcd-ts/proto/etcdserverpb";
import { describe, expect, it } from "vitest";
import { createGrpcFastPath, parseGrpcTimeout } from "./grpc-fast-path.js";

describe("parseGrpcTimeout", () => {
  it("reads every unit of the gRPC timeout header", () => {
    expect(parseGrpcTimeout("5S")).toBe(5000);
    expect(parseGrpcTimeout("100m")).toBe(100);
    expect(parseGrpcTimeout("2M")).toBe(120_000);
    expect(parseGrpcTimeout("1H")).toBe(3_600_000);
    expect(parseGrpcTimeout("4999864u")).toBeCloseTo(4999.864);
    expect(parseGrpcTimeout("1000000n")).toBeCloseTo(1);
  });

  it("ignores malformed values", () => {
    expect(parseGrpcTimeout(undefined)).toBeUndefined();
    expect(parseGrpcTimeout("5")).toBeUndefined();
    expect(parseGrpcTimeout("123456789S")).toBeUndefined(); // more than 8 digits
    expect(parseGrpcTimeout("5s")).toBeUndefined();
  });
});

describe("createGrpcFastPath", () => {
  // Regression: a member crashed with ERR_HTTP2_INVALID_STREAM when a handler failed after its client had
  // reset the stream (found by tools/robustness: clients time out and cancel while the leader is gone).
  it("survives a handler that fails or answers after the client reset the stream", async () => {
    const entered: Array<() => void> = [];
    const gates: Array<{ release: (outcome: "fail" | "answer") => void }> = [];
    const impl = {
      range: () =>
        new Promise((resolve, reject) => {
          gates.push({
            release: (outcome) =>
              outcome === "fail"
                ? reject(new ConnectError("etcdserver: request timed out", Code.Unavailable))
                : resolve({ count: 1n }),
          });
          entered.shift()?.();
        }),
    };
    const fastPath = createGrpcFastPath([[KV, impl]], 1 << 20);
    const server = http2.createServer((req, res) => {
      if (!fastPath(req, res)) res.writeHead(404).end();
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    const call = () => {
      const req = client.request({
        ":method": "POST",
        ":path": "/etcdserverpb.KV/Range",
        "content-type": "application/grpc",
      });
      req.end(Buffer.from([0, 0, 0, 0, 0])); // one empty RangeRequest
      return req;
    };
    const trailers = (req: http2.ClientHttp2Stream) =>
      new Promise<Record<string, unknown>>((resolve) => {
        let status: Record<string, unknown> = {};
        req.on("response", (headers) => {
          if (headers["grpc-status"] !== undefined) status = headers;
        });
        req.on("trailers", (headers) => {
          status = headers;
        });
        req.on("close", () => resolve(status));
        req.resume();
      });
    try {
      for (const outcome of ["fail", "answer"] as const) {
        const inHandler = new Promise<void>((resolve) => entered.push(resolve));
        const req = call();
        await inHandler;
        req.close(http2.constants.NGHTTP2_CANCEL);
        await new Promise((resolve) => setTimeout(resolve, 50)); // the server sees the reset
        gates.shift()?.release(outcome);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The server still answers the next call.
      const inHandler = new Promise<void>((resolve) => entered.push(resolve));
      const req = call();
      const status = trailers(req);
      await inHandler;
      gates.shift()?.release("answer");
      expect((await status)["grpc-status"]).toBe("0");
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      client.close();
      server.close();
    }
  });
});
