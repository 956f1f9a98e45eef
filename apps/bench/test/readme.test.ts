import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startServer, type TestServer } from "./servers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
let server: TestServer;

beforeAll(async () => {
  server = await startServer("etcd-ts");
});
afterAll(async () => {
  await server?.stop();
});

it("the README's library example runs against a member", async () => {
  const readme = fs.readFileSync(path.join(here, "../README.md"), "utf8");
  const block = readme.match(/```ts\n([\s\S]*?)```/)?.[1];
  expect(block).toBeDefined();
  const file = path.join(here, `.readme-example-${process.pid}.ts`);
  fs.writeFileSync(file, block!.replace("127.0.0.1:2379", server.endpoint));
  const logs: unknown[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args) => {
    logs.push(args[0]);
  });
  const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    await import(file);
  } finally {
    log.mockRestore();
    write.mockRestore();
    fs.rmSync(file, { force: true });
  }
  expect(logs).toEqual([500]);
});
