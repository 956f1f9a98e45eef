import fs from "node:fs";
import path from "node:path";
import type { HttpEndpoint } from "./router.js";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

/** Largest file the UI endpoint serves (the bundle is small; anything bigger is not ours). */
const maxFileBytes = 16 * 1024 * 1024;

/**
 * staticUi serves the dashboard's built files from `dir` under `/ui/` (GET and HEAD only; `/ui` and unknown
 * paths without an extension get index.html, for the single-page app). Paths are resolved inside `dir`:
 * nothing outside it can be read.
 */
export function staticUi(dir: string): HttpEndpoint {
  const root = path.resolve(dir);
  return (req, res) => {
    const url = (req.url ?? "/").split("?")[0] ?? "/";
    if (url !== "/ui" && !url.startsWith("/ui/")) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return true;
    }
    if (url === "/ui") {
      res.writeHead(301, { location: "/ui/" });
      res.end();
      return true;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(url.slice("/ui/".length));
    } catch {
      res.writeHead(400);
      res.end();
      return true;
    }
    let file = path.resolve(root, relative === "" ? "index.html" : relative);
    if (file !== root && !file.startsWith(root + path.sep)) {
      res.writeHead(404);
      res.end();
      return true;
    }
    if (!fs.existsSync(file) && path.extname(file) === "") file = path.join(root, "index.html");
    fs.promises
      .stat(file)
      .then(async (stat) => {
        if (!stat.isFile() || stat.size > maxFileBytes) throw new Error("not a file");
        const body = await fs.promises.readFile(file);
        const immutable = file.includes(`${path.sep}assets${path.sep}`);
        res.writeHead(200, {
          "content-type": contentTypes[path.extname(file)] ?? "application/octet-stream",
          "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
          "x-content-type-options": "nosniff",
        });
        if (req.method === "HEAD") res.end();
        else res.end(body);
      })
      .catch(() => {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("404 page not found\n");
      });
    return true;
  };
}
