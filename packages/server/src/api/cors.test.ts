import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { originAllowed, withCors } from "./cors.js";

describe("originAllowed", () => {
  it("follows etcd's --cors: empty or * allows all, otherwise an exact origin", () => {
    expect(originAllowed([], "http://a.example")).toBe(true);
    expect(originAllowed(["*"], "http://a.example")).toBe(true);
    expect(originAllowed(["http://a.example"], "http://a.example")).toBe(true);
    expect(originAllowed(["http://a.example"], "http://a.example:8080")).toBe(false);
    expect(originAllowed(["http://a.example"], "https://a.example")).toBe(false);
  });
});

describe("withCors", () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  const serve = async (allowed: string[]) => {
    const calls: string[] = [];
    server = http.createServer(
      withCors(allowed, (req, res) => {
        calls.push(`${req.method} ${req.url}`);
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      }),
    );
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return { base: `http://127.0.0.1:${port}`, calls };
  };

  it("answers a preflight from an allowed origin without calling the handler", async () => {
    const { base, calls } = await serve(["http://ui.example"]);
    const res = await fetch(`${base}/etcdserverpb.Maintenance/Status`, {
      method: "OPTIONS",
      headers: {
        origin: "http://ui.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version,token",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://ui.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe(
      "content-type,connect-protocol-version,token",
    );
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(calls).toEqual([]);
  });

  it("marks the actual request and exposes the gRPC status headers", async () => {
    const { base, calls } = await serve(["*"]);
    const res = await fetch(`${base}/v3/kv/range`, {
      method: "POST",
      headers: { origin: "http://any.example" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://any.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("grpc-status");
    expect(res.headers.get("vary")).toBe("Origin");
    expect(calls).toEqual(["POST /v3/kv/range"]);
  });

  it("gives a foreign origin no CORS headers and refuses its preflight", async () => {
    const { base, calls } = await serve(["http://ui.example"]);
    const preflight = await fetch(`${base}/v3/kv/range`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
    const res = await fetch(`${base}/v3/kv/range`, {
      method: "POST",
      headers: { origin: "http://evil.example" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(calls).toEqual(["POST /v3/kv/range"]);
  });

  it("leaves requests without an Origin (gRPC clients, curl) untouched", async () => {
    const { base, calls } = await serve(["http://ui.example"]);
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(calls).toEqual(["GET /health"]);
  });
});
