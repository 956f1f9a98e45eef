import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { freePort, mainJs } from "./harness.js";

/**
 * A cluster of real etcd-ts processes on 127.0.0.1 for the clustering tests: each member has its own data
 * dir under `baseDir`, its own client and peer ports, and is only ever ended by its own PID.
 */
export interface ClusterMember {
  readonly name: string;
  readonly clientUrl: string;
  /** peerUrl is what the member advertises (a proxy's port when the member is behind one). */
  readonly peerUrl: string;
  readonly listenPeerUrl: string;
  readonly dataDir: string;
  process: ChildProcess | undefined;
  output: string;
}

export interface ClusterOptions {
  baseDir: string;
  size: number;
  token?: string;
  args?: string[];
  /** behindProxies puts a TCP proxy in front of every member's peer port (for partition tests). */
  behindProxies?: boolean;
  /** peerTlsDir holds ca.pem, server.pem and server.key: peers talk mutual TLS (https peer URLs). */
  peerTlsDir?: string;
}

export class TestCluster {
  readonly members: ClusterMember[] = [];
  readonly proxies = new Map<string, TcpProxy>();
  readonly #options: ClusterOptions;

  private constructor(options: ClusterOptions) {
    this.#options = options;
  }

  /** start launches `size` members with --initial-cluster-state new and waits until one leads. */
  static async start(options: ClusterOptions): Promise<TestCluster> {
    const cluster = new TestCluster(options);
    for (let i = 1; i <= options.size; i++) {
      const member = await cluster.#plan(`m${i}`);
      cluster.members.push(member);
    }
    const initial = cluster.members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
    for (const member of cluster.members) cluster.#spawn(member, ["--initial-cluster", initial]);
    try {
      await cluster.waitForLeader(cluster.members);
    } catch (err) {
      // The caller never gets the cluster to stop: end the members (and proxies) started here.
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  async #plan(name: string): Promise<ClusterMember> {
    const clientPort = await freePort();
    const peerPort = await freePort();
    const scheme = this.#options.peerTlsDir === undefined ? "http" : "https";
    const listenPeerUrl = `${scheme}://127.0.0.1:${peerPort}`;
    let peerUrl = listenPeerUrl;
    if (this.#options.behindProxies === true) {
      const proxy = await TcpProxy.start(peerPort);
      this.proxies.set(name, proxy);
      peerUrl = `${scheme}://127.0.0.1:${proxy.port}`;
    }
    const dataDir = path.join(this.#options.baseDir, name);
    return {
      name,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      peerUrl,
      listenPeerUrl,
      dataDir,
      process: undefined,
      output: "",
    };
  }

  /** spawnArgv starts a member from a full etcd-ts argument list (e.g. one a tool printed). */
  spawnArgv(member: ClusterMember, argv: string[]): void {
    if (!this.members.includes(member)) this.members.push(member);
    this.#start(member, argv);
  }

  #start(member: ClusterMember, argv: string[]): void {
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"] });
    member.process = child;
    member.output = "";
    child.stdout?.on("data", (d: Buffer) => {
      member.output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      member.output += d.toString();
    });
  }

  #spawn(member: ClusterMember, extra: string[]): void {
    this.#start(member, [
      mainJs,
      "--name",
      member.name,
      "--data-dir",
      member.dataDir,
      "--listen-client-urls",
      member.clientUrl,
      "--advertise-client-urls",
      member.clientUrl,
      "--listen-peer-urls",
      member.listenPeerUrl,
      "--initial-advertise-peer-urls",
      member.peerUrl,
      "--initial-cluster-token",
      this.#options.token ?? "test-cluster",
      "--log-level",
      "warn",
      ...peerTlsArgs(this.#options.peerTlsDir),
      ...(this.#options.args ?? []),
      ...extra,
    ]);
  }

  /** restart starts a stopped member again on the same data dir. */
  restart(member: ClusterMember, args: string[] = []): void {
    const initial = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
    this.#spawn(member, ["--initial-cluster", initial, ...args]);
  }

  /**
   * join plans and starts a new member with --initial-cluster-state existing (after `member add`, which
   * the caller does with `peerUrlOf(name)`).
   */
  async plan(name: string): Promise<ClusterMember> {
    return this.#plan(name);
  }

  joinStart(member: ClusterMember, args: string[] = []): void {
    if (!this.members.includes(member)) this.members.push(member);
    const initial = this.members
      .filter((m) => m.process !== undefined || m === member)
      .map((m) => `${m.name}=${m.peerUrl}`)
      .join(",");
    this.#spawn(member, ["--initial-cluster", initial, "--initial-cluster-state", "existing", ...args]);
  }

  /** kill sends a signal to one member (ours, by PID) and waits for it to exit. */
  async kill(member: ClusterMember, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = member.process;
    if (child === undefined) return;
    member.process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.pid !== undefined) process.kill(child.pid, signal);
    await exited;
  }

  /** forget drops a removed member from the list (after killing it). */
  async forget(member: ClusterMember): Promise<void> {
    await this.kill(member);
    this.members.splice(this.members.indexOf(member), 1);
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m, "SIGKILL")));
    for (const proxy of this.proxies.values()) await proxy.close();
  }

  running(): ClusterMember[] {
    return this.members.filter((m) => m.process !== undefined);
  }

  /** waitForLeader waits until every given member reports the same leader; returns it. */
  async waitForLeader(members: ClusterMember[], timeoutMs = 20_000): Promise<ClusterMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(members.map((m) => status(m).catch(() => undefined)));
      const leaders = new Set(statuses.map((s) => s?.leader));
      const first = statuses[0]?.leader;
      if (leaders.size === 1 && first !== undefined && first !== "0") {
        const byId = await Promise.all(
          members.map(async (m) => ({ m, s: await status(m).catch(() => undefined) })),
        );
        const leader = byId.find((x) => x.s?.memberId === first)?.m;
        if (leader !== undefined) return leader;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `no common leader among ${members.map((m) => m.name).join(",")}: ${JSON.stringify(statuses)}\n${members.map((m) => `--- ${m.name}\n${m.output.slice(-2000)}`).join("\n")}`,
        );
      }
      await sleep(50);
    }
  }

  /** waitConverged waits until the members have the same applied index and revision; returns hashes. */
  async waitConverged(members: ClusterMember[], timeoutMs = 20_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(members.map((m) => status(m).catch(() => undefined)));
      const applied = new Set(statuses.map((s) => s?.appliedIndex));
      const revisions = new Set(statuses.map((s) => s?.revision));
      if (applied.size === 1 && revisions.size === 1 && !applied.has(undefined)) {
        // Learners answer only Status and serializable Range (as in etcd): their hash is not asked.
        const voters = members.filter((_, i) => statuses[i]?.isLearner !== true);
        return Promise.all(voters.map((m) => hashKv(m)));
      }
      if (Date.now() > deadline) throw new Error(`members did not converge: ${JSON.stringify(statuses)}`);
      await sleep(100);
    }
  }
}

function peerTlsArgs(dir: string | undefined): string[] {
  if (dir === undefined) return [];
  return [
    "--peer-cert-file",
    path.join(dir, "server.pem"),
    "--peer-key-file",
    path.join(dir, "server.key"),
    "--peer-trusted-ca-file",
    path.join(dir, "ca.pem"),
    "--peer-client-cert-auth",
  ];
}

/** gateway posts to the member's JSON gateway (etcd's /v3 routes). */
export async function gateway(
  member: ClusterMember,
  route: string,
  body: unknown,
  timeoutMs = 5000,
  // biome-ignore lint/suspicious/noExplicitAny: the gateway's protojson; each caller reads the fields it knows
): Promise<any> {
  const res = await fetch(`${member.clientUrl}/v3/${route}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const json = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export interface MemberStatus {
  memberId: string;
  leader: string;
  appliedIndex: string;
  revision: string;
  isLearner: boolean;
}

export async function status(member: ClusterMember): Promise<MemberStatus> {
  const res = await gateway(member, "maintenance/status", {}, 1000);
  return {
    memberId: res.header.member_id,
    leader: res.leader ?? "0",
    appliedIndex: res.raftAppliedIndex ?? res.raft_applied_index,
    revision: res.header.revision,
    isLearner: res.isLearner ?? res.is_learner ?? false,
  };
}

export async function hashKv(member: ClusterMember): Promise<number> {
  const res = await gateway(member, "maintenance/hashkv", { revision: 0 });
  return Number(res.hash);
}

export const b64 = (s: string) => Buffer.from(s).toString("base64");
export const unb64 = (s: string) => Buffer.from(s, "base64").toString();

/** put writes one key through a member; resolves true when the write was acknowledged. */
export async function put(
  member: ClusterMember,
  key: string,
  value: string,
  timeoutMs = 5000,
): Promise<boolean> {
  try {
    await gateway(member, "kv/put", { key: b64(key), value: b64(value) }, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/** keys reads every key under `prefix` from one member (serializable: its own state). */
export async function keys(member: ClusterMember, prefix: string): Promise<Set<string>> {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const res = await gateway(member, "kv/range", {
    key: b64(prefix),
    range_end: b64(end),
    keys_only: true,
    serializable: true,
  });
  return new Set(((res.kvs ?? []) as Array<{ key: string }>).map((kv) => unb64(kv.key)));
}

/**
 * WriteLoad keeps `writers` concurrent writers putting unique keys through the given members (round
 * robin) and records which writes were acknowledged.
 */
export class WriteLoad {
  readonly acknowledged = new Set<string>();
  attempted = 0;
  #running = true;
  readonly #done: Promise<unknown>;

  constructor(members: () => ClusterMember[], prefix: string, writers = 4) {
    let seq = 0;
    const writer = async (w: number) => {
      while (this.#running) {
        const targets = members();
        const target = targets[seq % Math.max(1, targets.length)];
        const key = `${prefix}${w}-${seq++}`;
        this.attempted++;
        if (target === undefined) {
          await sleep(10);
          continue;
        }
        if (await put(target, key, "v", 3000)) this.acknowledged.add(key);
        else await sleep(20);
      }
    };
    this.#done = Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** TcpProxy forwards a loopback port to a target port; pause() cuts it (a partition), resume() heals. */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #paused = false;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = net.createServer();
    const proxy = new TcpProxy(server);
    server.on("connection", (client) => {
      if (proxy.#paused) {
        client.destroy();
        return;
      }
      const upstream = net.connect(targetPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        proxy.#sockets.add(socket);
        socket.on("close", () => proxy.#sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  pause(): void {
    this.#paused = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  resume(): void {
    this.#paused = false;
  }

  async close(): Promise<void> {
    this.pause();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** removeDir removes a member's data dir (to rebuild it from its peers). */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
