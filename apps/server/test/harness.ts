import { type ChildProcess, execFile, spawn } from "node:child_process";
import https from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, removeTempDirs, tempDir } from "@etcd-ts/test-support";

const here = path.dirname(fileURLToPath(import.meta.url));
/** mainJs is the built etcd-ts binary (turbo builds before tests). */
export const mainJs = path.resolve(here, "../dist/main.js");

/**
 * freePort (a loopback port no other process takes first) and tempDir (removed after each test file by
 * test/setup.ts) come from @etcd-ts/test-support.
 */
export { freePort, removeTempDirs, tempDir };

/** Member is one etcd-ts process this test started (and only ends by its PID). */
export interface Member {
  readonly process: ChildProcess;
  readonly endpoint: string;
  readonly dataDir: string;
  readonly output: () => string;
  /** stop sends SIGTERM (or the given signal) to our child and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** startMember starts `etcd-ts` with a data dir on 127.0.0.1 and waits until it answers. */
export async function startMember(options: {
  dataDir: string;
  port?: number;
  args?: string[];
  /** tls makes the client URL https; health is checked with this CA (and client cert when given). */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** insecure skips verifying the server certificate in the health check (auto TLS). */
  insecure?: boolean;
  /** env adds environment variables for the server process. */
  env?: Record<string, string>;
}): Promise<Member> {
  const port = options.port ?? (await freePort());
  const url = `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${port}`;
  const peerPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      mainJs,
      "--name",
      "test",
      "--data-dir",
      options.dataDir,
      "--listen-client-urls",
      url,
      "--advertise-client-urls",
      url,
      "--listen-peer-urls",
      `http://127.0.0.1:${peerPort}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${peerPort}`,
      "--log-level",
      "warn",
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } },
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
    process: child,
    endpoint: `127.0.0.1:${port}`,
    dataDir: options.dataDir,
    output: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, signal);
      }
      await exited;
    },
  };
  const deadline = Date.now() + 20_000;
  let lastError: unknown;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd-ts exited early (${child.exitCode}):\n${output}`);
    try {
      const status =
        options.tls === undefined
          ? (await fetch(`${url}/health`)).status
          : await httpsStatus(`${url}/health`, { ...options.tls, insecure: options.insecure === true });
      if (status === 200) break;
    } catch (err) {
      // not listening yet
      lastError = err;
    }
    if (Date.now() > deadline) {
      await member.stop("SIGKILL");
      throw new Error(`etcd-ts did not become healthy (${String(lastError)}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return member;
}

/** Result of one etcdctl run. */
export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** etcdctl runs Debian's real etcdctl (v3 API) against the endpoint, with optional stdin. */
export function etcdctl(endpoint: string, args: string[], input?: string): Promise<CtlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      "etcdctl",
      [`--endpoints=${endpoint}`, "--dial-timeout=5s", "--command-timeout=10s", ...args],
      { env: { ...process.env, ETCDCTL_API: "3" }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) {
      child.stdin?.end(input);
    }
  });
}

/** httpsStatus GETs an https URL trusting `ca` (and presenting a client certificate when given). */
export function httpsStatus(
  url: string,
  tls: { ca: Buffer; cert?: Buffer; key?: Buffer; insecure?: boolean },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.insecure !== true };
    const req = https.get(url, options, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
  });
}
