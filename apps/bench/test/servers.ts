import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { freePort } from "@etcd-ts/test-support";

const require = createRequire(import.meta.url);
/** serverMain is the built etcd-ts binary (turbo builds @etcd-ts/server-app before these tests). */
export const serverMain = path.join(
  path.dirname(require.resolve("@etcd-ts/server-app/package.json")),
  "dist/main.js",
);

/** freePort is a loopback port reserved machine-wide for this test (see @etcd-ts/test-support). */
export { freePort };

/** TestServer is one single-member server this test started (ended only by its PID). */
export interface TestServer {
  readonly kind: "etcd-ts" | "etcd";
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * startServer starts a single member of etcd-ts (node serverMain) or Debian's real etcd on free loopback
 * ports with a fresh data dir, and resolves when /health answers 200.
 */
export async function startServer(kind: "etcd-ts" | "etcd"): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `etcd-ts-bench-${kind}-`));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const flags = [
    "--name",
    "bench",
    "--data-dir",
    path.join(dir, "data"),
    "--listen-client-urls",
    clientUrl,
    "--advertise-client-urls",
    clientUrl,
    "--listen-peer-urls",
    peerUrl,
    "--initial-advertise-peer-urls",
    peerUrl,
    "--initial-cluster",
    `bench=${peerUrl}`,
  ];
  const child: ChildProcess =
    kind === "etcd"
      ? spawn("etcd", [...flags, "--logger", "zap", "--log-level", "error"], {
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn(process.execPath, [serverMain, ...flags, "--log-level", "warn"], {
          stdio: ["ignore", "pipe", "pipe"],
        });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited early (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${clientUrl}/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${kind} did not become healthy:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { kind, endpoint: `127.0.0.1:${clientPort}`, stop };
}
