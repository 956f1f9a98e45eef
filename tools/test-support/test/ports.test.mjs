import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { utimesSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { freePort, portRange, releasePort, tryReserve } from "../ports.mjs";

const indexUrl = new URL("../ports.mjs", import.meta.url).href;

test("ports come from below the ephemeral range and can be listened on", async () => {
  const { low, high } = portRange();
  const port = await freePort();
  assert.ok(port >= low && port <= high, `${port} in ${low}-${high}`);
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(undefined));
  });
  await new Promise((resolve) => server.close(() => resolve(undefined)));
  releasePort(port);
});

test("one process never gets a port twice", async () => {
  const ports = [];
  for (let i = 0; i < 200; i++) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length);
  for (const port of ports) releasePort(port);
});

test("processes at once never share a port (the reservation is machine-wide)", async () => {
  // Each child reserves 300 ports, prints them, and holds its reservations until its stdin closes.
  const script = `import { freePort } from ${JSON.stringify(indexUrl)};
const ports = [];
for (let i = 0; i < 300; i++) ports.push(await freePort());
process.stdout.write(JSON.stringify(ports) + "\\n");
process.stdin.resume();`;
  const children = [0, 1, 2].map(() =>
    spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] }),
  );
  try {
    const lists = await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve, reject) => {
            let out = "";
            child.once("error", reject);
            child.once("exit", (code) => reject(new Error(`child exited ${code} before printing`)));
            child.stdout.on("data", (chunk) => {
              out += chunk;
              if (out.endsWith("\n")) resolve(JSON.parse(out));
            });
          }),
      ),
    );
    const all = lists.flat();
    assert.equal(all.length, 900);
    assert.equal(new Set(all).size, all.length);
  } finally {
    for (const child of children) child.stdin.end();
  }
});

test("a stale reservation (its owner gone) is taken over, a live one is not", async () => {
  const port = await freePort(); // ours now, and free
  releasePort(port);
  const file = join(tmpdir(), "etcd-ts-ports", String(port));
  // Another process's live reservation: a child reserves the port and holds it.
  const script = `import { tryReserve } from ${JSON.stringify(indexUrl)};
process.stdout.write(String(tryReserve(${port})) + "\\n");
process.stdin.resume();`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const answer = await new Promise((resolve) =>
      child.stdout.once("data", (d) => resolve(String(d).trim())),
    );
    assert.equal(answer, "true");
    assert.equal(tryReserve(port), false);
    // Ten minutes without a refresh: the owner is taken to be gone.
    const old = new Date(Date.now() - 10 * 60 * 1000);
    utimesSync(file, old, old);
    assert.equal(tryReserve(port), true);
    assert.equal(tryReserve(port), false); // ours already
  } finally {
    child.stdin.end();
    releasePort(port);
  }
});
