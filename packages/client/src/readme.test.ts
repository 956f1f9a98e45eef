import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, startServer, type TestServer } from "./testing/servers.js";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The README's opening example (its first ts block), which uses no TypeScript-only syntax. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(packageDir, "README.md"), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (match?.[1] === undefined) throw new Error("README has no ts block");
  return match[1];
}

describe.each(BACKENDS)("README example against %s", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(backend);
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it("runs as written (against the built package)", async () => {
    const example = readmeExample();
    expect(example.split("\n").length).toBeLessThanOrEqual(20);
    // Inside the package directory, so "@etcd-ts/client" resolves to this package (self-reference).
    const file = path.join(packageDir, `.readme-example-${backend}-${process.pid}.mjs`);
    fs.writeFileSync(file, example);
    try {
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          [file],
          { env: { ...process.env, ETCD_ENDPOINT: server.endpoint }, timeout: 30_000 },
          (err, out, stderr) =>
            err === null ? resolve(out) : reject(new Error(`${err.message}\n${stderr}`)),
        );
      });
      expect(stdout).toBe("color: blue\nswapped: true watched: config/color = green\n");
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
