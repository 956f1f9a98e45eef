/**
 * Test servers: an etcd-ts member (the built apps/server binary) or a real etcd 3.4 (/usr/bin/etcd), each
 * started on 127.0.0.1 with free ports and a fresh data dir, and ended only by its own PID.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { freePort } from "@etcd-ts/test-support";
import type { TestCerts } from "./certs.js";

/** Backend names a server implementation the suite runs against. */
export type Backend = "etcd-ts" | "etcd";

/** BACKENDS are the implementations every integration suite is run against. */
export const BACKENDS: readonly Backend[] = ["etcd-ts", "etcd"];

const require = createRequire(import.meta.url);
/** serverMainJs is the etcd-ts binary (build it first: pnpm --filter @etcd-ts/server-app... build). */
export const serverMainJs = path.join(
  path.dirname(require.resolve("@etcd-ts/server-app/package.json")),
  "dist/main.js",
);
/** etcdBinary is Debian's etcd 3.4. */
export const etcdBinary = process.env.ETCD_BIN ?? "/usr/bin/etcd";

/** freePort is a loopback port reserved machine-wide for this test (see @etcd-ts/test-support). */
export { freePort };

/** running holds every server process we started, so none outlives the test process. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** allThreadsStopped reports whether every thread of `pid` is in the stopped state ("T" in /proc). */
function allThreadsStopped(pid: number): boolean {
  const tasks = fs.readdirSync(`/proc/${pid}/task`);
  return tasks.every((tid) => {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      return true; // the thread ended meanwhile
    }
    // The state follows the command name, which is in parentheses and may itself contain spaces.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "T";
  });
}

/** TestServer is one server process this test started. */
export interface TestServer {
  readonly backend: Backend;
  /** endpoint is "127.0.0.1:port" (serving https when started with TLS). */
  readonly endpoint: string;
  readonly dataDir: string;
  output(): string;
  /** stop ends the process (SIGTERM unless told) and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** signal sends a signal (e.g. SIGSTOP / SIGCONT to freeze and thaw the member) without waiting. */
  signal(signal: NodeJS.Signals): void;
  /**
   * freeze sends SIGSTOP and waits until every thread of the process is stopped (Linux /proc): a signal
   * is delivered asynchronously, and a request sent right after `signal("SIGSTOP")` can still be served.
   */
  freeze(): Promise<void>;
  /** start (re)starts the process on the same ports and data dir. */
  start(): Promise<void>;
  /** destroy stops the process and removes the data dir. */
  destroy(): Promise<void>;
}

/** MemberPlan is where one member listens and which cluster it starts in. */
interface MemberPlan {
  name: string;
  clientPort: number;
  peerPort: number;
  initialCluster: string;
  /** tls makes the client URL https with client-certificate authentication. */
  tls?: TestCerts;
}

/** ServerOptions adjust a single-member test server. */
export interface ServerOptions {
  /** args are extra command-line flags. */
  args?: string[];
  /** tls serves clients over https with these certificates, and requires a client certificate (mTLS). */
  tls?: TestCerts;
}

/** startServer starts a single-member server of the given backend. */
export async function startServer(backend: Backend, options: ServerOptions = {}): Promise<TestServer> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const plan: MemberPlan = {
    name: "m1",
    clientPort,
    peerPort,
    initialCluster: `m1=http://127.0.0.1:${peerPort}`,
  };
  if (options.tls !== undefined) plan.tls = options.tls;
  const server = createServer(backend, plan, options.args ?? []);
  await server.start();
  return server;
}

/** startCluster starts `size` members of one cluster and waits until all are healthy. */
export async function startCluster(backend: Backend, size: number): Promise<TestServer[]> {
  const plans: MemberPlan[] = [];
  for (let i = 1; i <= size; i++) {
    plans.push({
      name: `m${i}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      initialCluster: "",
    });
  }
  const initialCluster = plans.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(",");
  const servers = plans.map((p) => createServer(backend, { ...p, initialCluster }, []));
  try {
    await Promise.all(servers.map((s) => s.start()));
  } catch (err) {
    await Promise.all(servers.map((s) => s.destroy()));
    throw err;
  }
  return servers;
}

/** createServer prepares (but does not start) one member with a fresh data dir. */
function createServer(backend: Backend, plan: MemberPlan, args: string[]): TestServer {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `etcd-ts-client-${backend}-`));
  const { clientPort, peerPort, name } = plan;
  const tls = plan.tls;
  const clientUrl = `${tls === undefined ? "http" : "https"}://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const flags = [
    "--name",
    name,
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    clientUrl,
    "--advertise-client-urls",
    clientUrl,
    "--listen-peer-urls",
    peerUrl,
    "--initial-advertise-peer-urls",
    peerUrl,
    "--initial-cluster",
    plan.initialCluster,
    "--initial-cluster-token",
    "etcd-ts-client-test",
    ...(tls === undefined
      ? []
      : [
          "--cert-file",
          tls.serverCertFile,
          "--key-file",
          tls.serverKeyFile,
          "--trusted-ca-file",
          tls.caFile,
          "--client-cert-auth",
        ]),
    ...args,
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = "";
  const server: TestServer = {
    backend,
    endpoint: `127.0.0.1:${clientPort}`,
    dataDir,
    output: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      const c = child;
      if (c !== undefined && c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        c.kill(signal);
      }
      await exited;
    },
    signal(signal: NodeJS.Signals) {
      const c = child;
      if (c !== undefined && c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        c.kill(signal);
      }
    },
    async freeze() {
      const pid = child?.pid;
      if (pid === undefined) throw new Error("freeze: the server is not running");
      server.signal("SIGSTOP");
      const deadline = Date.now() + 10_000;
      while (!allThreadsStopped(pid)) {
        if (Date.now() > deadline) throw new Error(`freeze: process ${pid} did not stop`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async start() {
      const c =
        backend === "etcd-ts"
          ? spawn(process.execPath, [serverMainJs, ...flags, "--log-level", "warn"], {
              stdio: ["ignore", "pipe", "pipe"],
            })
          : spawn(etcdBinary, [...flags, "--log-level", "warn", "--logger", "zap"], {
              stdio: ["ignore", "pipe", "pipe"],
              env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === "x64" ? "" : process.arch },
            });
      child = c;
      running.add(c);
      exited = new Promise<void>((resolve) =>
        c.once("exit", () => {
          running.delete(c);
          resolve();
        }),
      );
      c.stdout?.on("data", (d: Buffer) => {
        output += d.toString();
      });
      c.stderr?.on("data", (d: Buffer) => {
        output += d.toString();
      });
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (c.exitCode !== null) throw new Error(`${backend} exited early (${c.exitCode}):\n${output}`);
        if (await healthy(clientUrl, tls)) break;
        if (Date.now() > deadline) {
          await server.stop("SIGKILL");
          throw new Error(`${backend} did not become healthy:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async destroy() {
      await server.stop("SIGKILL");
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** healthy asks a member's /health endpoint (with the client certificate under TLS) whether it is healthy. */
async function healthy(clientUrl: string, tls: TestCerts | undefined): Promise<boolean> {
  try {
    if (tls === undefined) {
      const res = await fetch(`${clientUrl}/health`);
      return res.status === 200 && (await res.text()).includes("true");
    }
    return await new Promise<boolean>((resolve) => {
      const req = https.get(
        `${clientUrl}/health`,
        { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey, timeout: 2_000 },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => {
            body += d.toString();
          });
          res.on("end", () => resolve(res.statusCode === 200 && body.includes("true")));
          res.on("error", () => resolve(false));
        },
      );
      req.on("error", () => resolve(false));
      req.on("timeout", () => req.destroy());
    });
  } catch {
    return false; // not listening yet
  }
}
