import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@etcd-ts/test-support";

const here = path.dirname(fileURLToPath(import.meta.url));
/** serverMain is the etcd-ts binary of the @etcd-ts/server-app devDependency (built before the tests). */
export const serverMain = path.resolve(here, "../node_modules/@etcd-ts/server-app/dist/main.js");

/** freePort is a loopback port reserved machine-wide for this test (see @etcd-ts/test-support). */
export { freePort };

/**
 * HEALTHY_TIMEOUT_MS bounds the wait for a member's /health to answer 200. Generous: a new 3-member cluster
 * has to start three Node processes and elect a leader, on CI machines that run other tests meanwhile.
 */
const HEALTHY_TIMEOUT_MS = 45_000;

/** Member is one etcd-ts process this test started; it is only ever ended by its own PID. */
export interface Member {
  readonly url: string;
  readonly name: string;
  readonly dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * startMember starts a single-member etcd-ts cluster on 127.0.0.1 and waits until /health answers 200.
 * `extraArgs` are appended to the member's flags (e.g. `--ui=false`).
 */
export async function startMember(name: string, extraArgs: readonly string[] = []): Promise<Member> {
  const [member] = await startCluster([name], extraArgs);
  return member!;
}

/**
 * startCluster starts one etcd-ts member per name as a new cluster on 127.0.0.1 (free ports, fresh data
 * dirs under the OS temp folder) and waits until every member's /health answers 200.
 */
export async function startCluster(
  names: readonly string[],
  extraArgs: readonly string[] = [],
): Promise<Member[]> {
  if (!fs.existsSync(serverMain)) {
    throw new Error(`${serverMain} is missing: build it first (pnpm --filter @etcd-ts/server-app... build)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-dashboard-"));
  const ports = await Promise.all(
    names.map(async () => ({ client: await freePort(), peer: await freePort() })),
  );
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i]!.peer}`).join(",");
  const members = names.map((name, i) =>
    spawnMember(name, path.join(dataDir, name), ports[i]!.client, ports[i]!.peer, initialCluster, extraArgs),
  );
  try {
    await Promise.all(members.map((m) => m.healthy));
  } catch (err) {
    await Promise.all(members.map((m) => m.member.stop()));
    throw err;
  }
  return members.map((m) => m.member);
}

function spawnMember(
  name: string,
  dataDir: string,
  clientPort: number,
  peerPort: number,
  initialCluster: string,
  extraArgs: readonly string[],
): { member: Member; healthy: Promise<void> } {
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      serverMain,
      ...["--name", name, "--data-dir", dataDir],
      ...["--listen-client-urls", url, "--advertise-client-urls", url],
      ...["--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer],
      ...["--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--log-level", "warn"],
      ...extraArgs,
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
      // The cluster's temp folder goes with its last member. Members stop concurrently, so another one
      // may have removed it already, or still have its data dir in it.
      try {
        fs.rmdirSync(path.dirname(dataDir));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTEMPTY") throw err;
      }
    },
  };
  const healthy = (async () => {
    const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`etcd-ts ${name} exited early (${child.exitCode}):\n${output}`);
      try {
        if ((await fetch(`${url}/health`)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`etcd-ts ${name} did not become healthy:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return { member, healthy };
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
