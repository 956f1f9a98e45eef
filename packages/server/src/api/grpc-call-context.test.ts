import { EventEmitter } from "node:events";
import type http2 from "node:http2";
import { ConnectError } from "@connectrpc/connect";
import { KV, RangeRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { describe, expect, it } from "vitest";
import { GrpcCallContext } from "./grpc-call-context.js";

function call(timeoutMs?: number) {
  const res = Object.assign(new EventEmitter(), { stream: { destroyed: false } });
  const req = {
    url: "/etcdserverpb.KV/Range",
    headers: { ":path": "/etcdserverpb.KV/Range", token: "t1", hasleader: "true" },
  };
  const ctx = new GrpcCallContext(
    KV.method.range,
    req as unknown as http2.Http2ServerRequest,
    res as unknown as http2.Http2ServerResponse,
    timeoutMs,
  );
  return { ctx, res };
}

describe("GrpcCallContext", () => {
  it("carries the metadata without pseudo-headers and makes no signal until asked", () => {
    const { ctx, res } = call();
    expect(ctx.method.input).toBe(RangeRequestSchema);
    expect(ctx.requestHeader.get("token")).toBe("t1");
    expect([...ctx.requestHeader.keys()]).toEqual(["hasleader", "token"]);
    expect(ctx.url).toBe("http://localhost/etcdserverpb.KV/Range");
    expect(ctx.timeoutMs()).toBeUndefined();
    expect(res.listenerCount("close")).toBe(0);
    ctx.dispose();
  });

  it("aborts the signal when the client closes the stream, and dispose removes the listener", () => {
    const { ctx, res } = call();
    const signal = ctx.signal;
    expect(res.listenerCount("close")).toBe(1);
    res.emit("close");
    expect(signal.aborted).toBe(true);
    expect(ctx.clientClosed).toBe(true);
    expect(ConnectError.from(signal.reason).rawMessage).toBe("client closed the stream");
    ctx.dispose();
    expect(res.listenerCount("close")).toBe(0);
  });

  it("aborts at the deadline with DeadlineExceeded; dispose clears the timer", async () => {
    const { ctx } = call(20);
    const signal = ctx.signal;
    expect(ctx.timeoutMs()).toBeLessThanOrEqual(20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(signal.aborted).toBe(true);
    expect(ConnectError.from(signal.reason).rawMessage).toBe("the operation timed out");
    ctx.dispose();
    const late = call(20);
    const lateSignal = late.ctx.signal;
    late.ctx.dispose();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(lateSignal.aborted).toBe(false);
  });
});
