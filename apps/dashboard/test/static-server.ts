import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/**
 * startStaticServer stands in for a member that does not serve /ui yet: it serves `distDir` at /ui/ and
 * proxies every other request (Connect, gRPC-Web, the JSON gateway and its streaming watch) to `memberUrl`,
 * so the page still talks to "its own origin" exactly as it does when etcd-ts serves it.
 */
export async function startStaticServer(
  distDir: string,
  memberUrl: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const member = new URL(memberUrl);
  const root = path.resolve(distDir);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/ui") {
      res.writeHead(301, { location: "/ui/" });
      res.end();
      return;
    }
    if (url.pathname.startsWith("/ui/")) {
      const rel = decodeURIComponent(url.pathname.slice("/ui/".length)) || "index.html";
      const file = path.resolve(root, rel);
      if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
        return;
      }
      res.writeHead(200, { "content-type": contentTypes[path.extname(file)] ?? "application/octet-stream" });
      fs.createReadStream(file).pipe(res);
      return;
    }
    const upstream = http.request(
      {
        host: member.hostname,
        port: member.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: member.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(String(err));
    });
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
