import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { freePort } from "@etcd-ts/test-support";
import { assert } from "../assert.js";
import { ClusterError } from "../errors.js";
import type { Random } from "../random.js";
import { sleep } from "../sleep.js";
import { EtcdClient, errorText, toNumber } from "./etcd-client.js";
import { FaultProxy } from "./fault-proxy.js";
import { socketOwners } from "./socket-owner.js";

/** Target is the implementation under test: etcd-ts, or real etcd as the reference. */
export type Target = "etcd-ts" | "etcd";

/** ClusterOptions describe a cluster to start. */
export interface ClusterOptions {
  readonly target: Target;
  readonly size: number;
  /** baseDir holds one data dir per member. */
  readonly baseDir: string;
  readonly rng: Random;
  readonly heartbeatMs: number;
  readonly electionTimeoutMs: number;
  /** snapshotCount is --snapshot-count (small values make followers catch up by snapshot). */
  readonly snapshotCount: number;
  /** binary overrides the path of the member binary (etcd-ts main.js or etcd). */
  readonly binary?: string;
}

/** Member is one process of the cluster (always ended by its own PID). */
export interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly proxy: FaultProxy;
  readonly dataDir: string;
  process: ChildProcess | undefined;
  /** stopped is true while the process is SIGSTOPped. */
  stopped: boolean;
  output: string;
  client: EtcdClient;
  /** crashes records each exit the harness did not cause (exit code or signal, and the output tail). */
  crashes: string[];
}

/** defaultEtcdTsBinary finds apps/server/dist/main.js through the @etcd-ts/server-app dependency. */
export function defaultEtcdTsBinary(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("@etcd-ts/server-app/package.json")), "dist", "main.js");
}

/**
 * freePort is a loopback port reserved machine-wide (see @etcd-ts/test-support): two clusters started side by
 * side (`--parallel`, the CI suite) and other test processes never share one.
 */
export { freePort };

const outputLimit = 200_000;

/**
 * RobustnessCluster runs N members on 127.0.0.1, each peer port behind a FaultProxy (members advertise
 * the proxy), and offers the operations faults need: kill, stop/continue, restart, replace.
 */
export class RobustnessCluster {
  readonly members: Member[] = [];
  readonly #options: ClusterOptions;
  readonly #token: string;

  private constructor(options: ClusterOptions) {
    this.#options = options;
    this.#token = `robustness-${options.rng.int(1e9)}`;
  }

  /** start launches the members with --initial-cluster-state new and waits for a leader. */
  static async start(options: ClusterOptions): Promise<RobustnessCluster> {
    const cluster = new RobustnessCluster(options);
    live.add(cluster);
    try {
      for (let i = 1; i <= options.size; i++) cluster.members.push(await cluster.#plan(`m${i}`));
      for (const member of cluster.members) cluster.#spawn(member, "new");
      await cluster.waitHealthy(cluster.members, 30_000);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  get options(): ClusterOptions {
    return this.#options;
  }

  /** pids maps our running processes to member names (for the proxies' link identification). */
  pids(): Map<number, string> {
    const map = new Map<number, string>();
    for (const m of this.members) if (m.process?.pid !== undefined) map.set(m.process.pid, m.name);
    return map;
  }

  async #plan(name: string): Promise<Member> {
    const clientPort = await freePort();
    const peerPort = await freePort();
    const proxy = await FaultProxy.start(peerPort, this.#options.rng, (remotePorts) =>
      socketOwners(remotePorts, this.pids()),
    );
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const dataDir = path.join(this.#options.baseDir, name);
    return {
      name,
      clientUrl,
      clientPort,
      peerPort,
      proxy,
      dataDir,
      process: undefined,
      stopped: false,
      output: "",
      client: new EtcdClient(clientUrl),
      crashes: [],
    };
  }

  #spawn(member: Member, state: "new" | "existing", cluster: readonly Member[] = this.members): void {
    const { target, binary, heartbeatMs, electionTimeoutMs, snapshotCount } = this.#options;
    const initial = cluster.map((m) => `${m.name}=http://127.0.0.1:${m.proxy.port}`).join(",");
    const args = [
      "--name",
      member.name,
      "--data-dir",
      member.dataDir,
      "--listen-client-urls",
      member.clientUrl,
      "--advertise-client-urls",
      member.clientUrl,
      "--listen-peer-urls",
      `http://127.0.0.1:${member.peerPort}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${member.proxy.port}`,
      "--initial-cluster",
      initial,
      "--initial-cluster-state",
      state,
      "--initial-cluster-token",
      this.#token,
      "--heartbeat-interval",
      String(heartbeatMs),
      "--election-timeout",
      String(electionTimeoutMs),
      "--snapshot-count",
      String(snapshotCount),
    ];
    const child =
      target === "etcd"
        ? spawn(binary ?? "/usr/bin/etcd", [...args, "--logger", "zap", "--log-level", "error"], {
            stdio: ["ignore", "pipe", "pipe"],
          })
        : spawn(
            process.execPath,
            [
              binary ?? defaultEtcdTsBinary(),
              ...args,
              "--log-level",
              process.env.ROBUSTNESS_LOG_LEVEL ?? "warn",
            ],
            {
              stdio: ["ignore", "pipe", "pipe"],
            },
          );
    member.process = child;
    member.stopped = false;
    const append = (d: Buffer) => {
      member.output += d.toString();
      if (member.output.length > outputLimit) member.output = member.output.slice(-outputLimit / 2);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    child.once("exit", (code, signal) => {
      // kill() forgets the process before it signals it: still ours here means nobody asked it to exit.
      if (member.process === child) {
        member.crashes.push(`${member.name} exited (${signal ?? code}):\n${member.output.slice(-3000)}`);
      }
    });
  }

  /** running lists members whose process is up (stopped ones included). */
  running(): Member[] {
    return this.members.filter((m) => m.process !== undefined);
  }

  /** kill sends a signal and waits for the exit (SIGKILL by default). */
  async kill(member: Member, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = member.process;
    if (child === undefined) return;
    member.process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.pid !== undefined) {
      if (member.stopped) process.kill(child.pid, "SIGCONT");
      process.kill(child.pid, signal);
    }
    member.stopped = false;
    await exited;
  }

  /** pause SIGSTOPs a member; resume SIGCONTs it. */
  pause(member: Member): void {
    assert(member.process?.pid !== undefined, `pause of a stopped member ${member.name}`);
    process.kill(member.process.pid, "SIGSTOP");
    member.stopped = true;
  }

  resume(member: Member): void {
    if (member.process?.pid === undefined || !member.stopped) return;
    process.kill(member.process.pid, "SIGCONT");
    member.stopped = false;
  }

  /** restart starts a killed member again on its data dir; resolves once its client port listens. */
  async restart(member: Member): Promise<void> {
    assert(member.process === undefined, `restart of a running member ${member.name}`);
    this.#spawn(member, "new");
    await waitListening(member, 30_000);
  }

  /**
   * replace is etcd's member replace: kill the member, wipe its data dir, remove it from the cluster, add
   * it back (same name and URLs, a new id) and start it empty with --initial-cluster-state existing.
   * Resolves once the new process listens.
   */
  async replace(member: Member): Promise<void> {
    const others = this.members.filter((m) => m !== member);
    let oldId = 0n;
    await retryMembership(others, async (c) => {
      const list = await c.cluster.memberList({}, { timeoutMs: 3000 });
      oldId = list.members.find((m) => m.name === member.name)?.ID ?? 0n;
      if (oldId === 0n) throw new ClusterError(`member ${member.name} is not in the member list`);
    });
    // A member that died on its own is a finding, not something the replace should hide.
    if (member.process !== undefined && member.process.exitCode !== null) {
      throw new ClusterError(
        `member ${member.name} exited (${member.process.exitCode}):\n${member.output.slice(-3000)}`,
      );
    }
    await this.kill(member);
    fs.rmSync(member.dataDir, { recursive: true, force: true });
    const peerUrl = `http://127.0.0.1:${member.proxy.port}`;
    await retryMembership(others, async (c) => {
      try {
        await c.cluster.memberRemove({ ID: oldId }, { timeoutMs: 3000 });
      } catch (err) {
        if (!errorText(err).includes("member not found")) throw err;
      }
    });
    // The new member has the old one's peer URL: only an entry with another id is the new one (a member
    // that has not applied the removal yet still lists the old entry).
    const added = (list: { members: Array<{ ID: bigint; peerURLs: string[] }> }) =>
      list.members.some((m) => m.peerURLs.includes(peerUrl) && m.ID !== oldId);
    await retryMembership(others, async (c) => {
      const list = await c.cluster.memberList({}, { timeoutMs: 3000 });
      if (added(list)) return;
      await c.cluster.memberAdd({ peerURLs: [peerUrl] }, { timeoutMs: 3000 });
    });
    // A joining member asks the others who is in the cluster: every running one must know it by then.
    for (const other of others.filter((m) => m.process !== undefined && !m.stopped)) {
      await retryMembership([other], async (c) => {
        if (!added(await c.cluster.memberList({}, { timeoutMs: 3000 }))) {
          throw new ClusterError(`${other.name} does not list the new ${member.name} yet`);
        }
      });
    }
    this.#spawn(member, "existing");
    await waitListening(member, 30_000);
  }

  /** memberId asks a member for its own id. */
  async memberId(member: Member): Promise<bigint> {
    const status = await member.client.maintenance.status({}, { timeoutMs: 2000 });
    return status.header?.memberId ?? 0n;
  }

  /** checkAlive throws when one of our running members has exited on its own (no point waiting on it). */
  checkAlive(): void {
    for (const m of this.running()) {
      const child = m.process;
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
        throw new ClusterError(
          `member ${m.name} exited (${child.signalCode ?? child.exitCode}):\n${m.output.slice(-3000)}`,
        );
      }
    }
  }

  /** leader finds the member every running member agrees leads (undefined when there is none). */
  async leader(timeoutMs = 10_000): Promise<Member | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      this.checkAlive();
      const live = this.running().filter((m) => !m.stopped);
      const statuses = await Promise.all(
        live.map((m) => m.client.maintenance.status({}, { timeoutMs: 1000 }).catch(() => undefined)),
      );
      const leaders = new Set(statuses.map((s) => s?.leader ?? 0n));
      const [only] = leaders;
      if (leaders.size === 1 && only !== undefined && only !== 0n) {
        const index = statuses.findIndex((s) => s?.header?.memberId === only);
        const found = live[index];
        if (found !== undefined) return found;
      }
      await sleep(50);
    }
    return undefined;
  }

  /**
   * waitHealthy waits until every given member answers a linearizable read; returns how long it took.
   */
  async waitHealthy(members: readonly Member[], timeoutMs: number): Promise<number> {
    const started = Date.now();
    // A leader first (Status needs no quorum round), so no read is sent while there is none.
    await this.leader(timeoutMs);
    const pending = new Set(members);
    while (pending.size > 0) {
      for (const m of [...pending]) {
        if (m.process !== undefined && m.process.exitCode !== null) {
          throw new ClusterError(
            `member ${m.name} exited (${m.process.exitCode}):\n${m.output.slice(-3000)}`,
          );
        }
        try {
          await m.client.kv.range({ key: new TextEncoder().encode("health") }, { timeoutMs: 500 });
          pending.delete(m);
        } catch {
          // not yet
        }
      }
      if (pending.size === 0) break;
      if (Date.now() - started > timeoutMs) {
        const names = [...pending].map((m) => `--- ${m.name}\n${m.output.slice(-3000)}`).join("\n");
        throw new ClusterError(`members not healthy after ${timeoutMs} ms:\n${names}`);
      }
      await sleep(50);
    }
    return Date.now() - started;
  }

  /**
   * converge waits until every running member has applied the same revision, then returns each one's
   * HashKV at that revision.
   */
  async converge(
    timeoutMs: number,
  ): Promise<Array<{ member: string; revision: number; hash: number; compactRevision: number }>> {
    const deadline = Date.now() + timeoutMs;
    const live = this.running();
    for (;;) {
      this.checkAlive();
      const statuses = await Promise.all(
        live.map((m) => m.client.maintenance.status({}, { timeoutMs: 2000 }).catch(() => undefined)),
      );
      const revisions = statuses.map((s) => (s === undefined ? -1 : toNumber(s.header?.revision ?? 0n)));
      const applied = statuses.map((s) => (s === undefined ? -1 : toNumber(s.raftAppliedIndex)));
      const same = (xs: number[]) => xs.every((x) => x === xs[0] && x >= 0);
      if (same(revisions) && (this.#options.target === "etcd" || same(applied))) {
        const revision = revisions[0] ?? 0;
        return Promise.all(
          live.map(async (m) => {
            const res = await m.client.maintenance.hashKV(
              { revision: BigInt(revision) },
              { timeoutMs: 5000 },
            );
            return {
              member: m.name,
              revision,
              hash: res.hash,
              compactRevision: toNumber(res.compactRevision),
            };
          }),
        );
      }
      if (Date.now() > deadline) {
        throw new ClusterError(
          `members did not converge: revisions ${revisions.join(",")} applied ${applied.join(",")}`,
        );
      }
      await sleep(100);
    }
  }

  /** stop ends every process we started (by PID) and closes proxies and clients. */
  async stop(): Promise<void> {
    live.delete(this);
    await Promise.all(this.members.map((m) => this.kill(m, "SIGKILL")));
    for (const m of this.members) {
      m.client.close();
      await m.proxy.close();
    }
  }
}

/** live are the clusters started and not yet stopped (what an interrupted tool must end). */
const live = new Set<RobustnessCluster>();

/** stopAllClusters ends every member this process started (by PID), e.g. on SIGINT. */
export async function stopAllClusters(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

/** waitListening resolves when the member's client port accepts TCP connections. */
async function waitListening(member: Member, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(member.clientPort, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (member.process?.exitCode !== null && member.process?.exitCode !== undefined) {
      throw new ClusterError(
        `member ${member.name} exited (${member.process.exitCode}):\n${member.output.slice(-3000)}`,
      );
    }
    if (Date.now() > deadline)
      throw new ClusterError(`member ${member.name} did not listen in ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** retryMembership runs a membership change through any member, retrying while the cluster settles. */
async function retryMembership(members: readonly Member[], action: (client: EtcdClient) => Promise<void>) {
  const deadline = Date.now() + 20_000;
  let last: unknown;
  for (let i = 0; Date.now() < deadline; i++) {
    const member = members[i % members.length];
    assert(member !== undefined, "no member for a membership change");
    try {
      await action(member.client);
      return;
    } catch (err) {
      last = err;
      await sleep(200);
    }
  }
  throw new ClusterError(`membership change failed: ${errorText(last)}`);
}
