import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
/** serverMain is the etcd-ts binary of the @etcd-ts/server-app devDependency (built before the tests). */
export const serverMain = path.resolve(here, "../node_modules/@etcd-ts/server-app/dist/main.js");

/** freePort asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Member is one etcd-ts process this test started; it is only ever ended by its own PID. */
export interface Member {
  readonly url: string;
  readonly name: string;
  readonly dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

/** startMember starts a single-member etcd-ts cluster on 127.0.0.1 and waits until /health answers 200. */
export async function startMember(name: string): Promise<Member> {
  if (!fs.existsSync(serverMain)) {
    throw new Error(`${serverMain} is missing: build it first (pnpm --filter @etcd-ts/server-app... build)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-dashboard-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      serverMain,
      ...["--name", name, "--data-dir", path.join(dataDir, "data")],
      ...["--listen-client-urls", url, "--advertise-client-urls", url],
      ...["--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer],
      ...["--initial-cluster", `${name}=${peer}`, "--log-level", "warn"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const member: Member = {
    url,
    name,
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd-ts exited early (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) return member;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await member.stop();
      throw new Error(`etcd-ts did not become healthy:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** etcdctl runs Debian's real etcdctl (v3 API) against `url` and returns its stdout; it throws on failure. */
export function etcdctl(url: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "etcdctl",
      [`--endpoints=${url}`, "--dial-timeout=5s", "--command-timeout=10s", ...args],
      { env: { ...process.env, ETCDCTL_API: "3" }, timeout: 30_000 },
      (err, stdout, stderr) =>
        err === null ? resolve(stdout) : reject(new Error(`etcdctl ${args.join(" ")}: ${stderr}`)),
    );
  });
}
