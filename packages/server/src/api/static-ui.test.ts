import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staticUi } from "./static-ui.js";

describe("staticUi", () => {
  let server: http.Server;
  let base: string;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-ui-"));
  const secret = path.join(path.dirname(root), `${path.basename(root)}-secret.txt`);

  beforeAll(async () => {
    fs.mkdirSync(path.join(root, "assets"));
    fs.writeFileSync(path.join(root, "index.html"), "<h1>ui</h1>");
    fs.writeFileSync(path.join(root, "assets", "app.js"), "console.log(1)");
    fs.writeFileSync(secret, "do not serve");
    const endpoint = staticUi(root);
    server = http.createServer((req, res) => {
      if (!endpoint(req, res)) {
        res.writeHead(418);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => {
    server.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(secret, { force: true });
  });

  it("serves the bundle under /ui/ with index.html for app routes, and nothing else", async () => {
    expect(await (await fetch(`${base}/ui/`)).text()).toBe("<h1>ui</h1>");
    expect(await (await fetch(`${base}/ui/keys/some/prefix`)).text()).toBe("<h1>ui</h1>");
    const js = await fetch(`${base}/ui/assets/app.js`);
    expect(js.headers.get("content-type")).toContain("text/javascript");
    expect((await fetch(`${base}/ui/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/other`)).status).toBe(418);
    expect((await fetch(`${base}/ui/`, { method: "POST" })).status).toBe(405);
  });

  it("never reads outside its directory", async () => {
    const name = `${path.basename(root)}-secret.txt`;
    for (const attempt of [`/ui/../${name}`, `/ui/%2e%2e/${name}`, `/ui/..%2f${name}`]) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get(`${base}${attempt}`, (r) => {
            let body = "";
            r.on("data", (d: Buffer) => {
              body += d.toString();
            });
            r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
          })
          .on("error", reject);
      });
      expect(res.body, attempt).not.toContain("do not serve");
    }
  });
});
