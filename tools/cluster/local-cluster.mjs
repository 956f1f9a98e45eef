// A local cluster of real etcd or etcd-ts processes on loopback: start N members that bootstrap together, add
// members the way an operator does (member add, then start the process with --initial-cluster-state
// existing), optionally route peer traffic through TCP proxies to cut a member off and heal it.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { etcdctl, parseMemberAddOutput } from "./etcdctl.mjs";
import { ETCD_TS_MAIN, Member, memberPaths, sleep } from "./member-process.mjs";
import { freePort, portInUse } from "./ports.mjs";
import { startTcpProxy } from "./tcp-proxy.mjs";

/**
 * @typedef {import("./member-process.mjs").Kind} Kind
 * @typedef {import("./member-process.mjs").Readiness} Readiness
 * @typedef {import("./etcdctl.mjs").MemberAddOutput} MemberAddOutput
 */

/** How long addMember retries a member add that etcd refuses with "unhealthy cluster". */
const UNHEALTHY_RETRY_MS = 15_000;

/** Largest cluster startCluster bootstraps (etcd recommends up to 7 voters). */
export const MAX_SIZE = 9;

/**
 * Port layouts: "free" asks the kernel for free ports (tests), "procfile" is etcd's Procfile (infra1
 * 2379/2380, infra2 22379/22380, infra3 32379/32380, ..., up to 6 members), a number is a base port (member i
 * gets client base+2i and peer base+2i+1).
 * @typedef {"free" | "procfile" | number} PortLayout
 */

/**
 * @typedef {object} ClusterOptions
 * @property {Kind} [kind]              default "etcd-ts"
 * @property {number} [size]            members to bootstrap, default 3
 * @property {string} [baseDir]         data dirs and logs go to <baseDir>/<name>/; default a fresh temp dir
 * @property {string} [token]           --initial-cluster-token, default "etcd-cluster-1"
 * @property {string} [namePrefix]      members are <prefix>1..<prefix>N, default "infra"
 * @property {PortLayout} [ports]       default "free"
 * @property {number} [basePort]        shorthand for ports: <number>
 * @property {boolean} [peerProxies]    put a TcpProxy in front of every member's peer port and advertise it
 * @property {string[] | ((name: string) => string[])} [extraArgs]  more flags for every member (or per member)
 * @property {string} [logLevel]        default "warn"
 * @property {Readiness} [readiness]    what start waits for, default "health"
 * @property {number} [readyTimeoutMs]
 * @property {boolean} [detached]       members in their own process groups, surviving the starter (CLI)
 * @property {string} [etcdBin]         default "etcd" (from PATH)
 * @property {string} [etcdctlBin]      default "etcdctl" (from PATH)
 * @property {string} [etcdTsMain]      default apps/server/dist/main.js of this repository
 * @property {(cluster: Cluster) => void} [onSpawn]  called once every process is spawned, before they are
 *   ready (the CLI records the PIDs here, so that an interrupted start can still be stopped)
 */

/**
 * Reservation is the ports (and proxy) set aside for a member that is about to be added: advertise `peerUrl`
 * in `etcdctl member add`, then start it with Cluster.startAddedMember.
 * @typedef {object} Reservation
 * @property {string} name
 * @property {number} clientPort
 * @property {number} peerPort                                      the member listens here
 * @property {string} peerUrl                                       advertised (the proxy's, if any)
 * @property {import("./tcp-proxy.mjs").TcpProxy | undefined} proxy
 */

/**
 * attached holds the clusters whose members must not outlive this process: if it exits without stopping them
 * (an uncaught error in a test), they get SIGKILL, synchronously, on the way out. Detached clusters (the CLI's)
 * are meant to outlive it.
 * @type {Set<Cluster>}
 */
const attached = new Set();
process.on("exit", () => {
  for (const cluster of attached) {
    for (const m of cluster.members) {
      if (!m.running || m.pid === undefined) continue;
      try {
        process.kill(m.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});

/**
 * Cluster is a running local cluster. Members are never ended by name: every stop goes to a PID this module
 * started.
 */
export class Cluster {
  /**
   * @param {Required<Pick<ClusterOptions, "kind" | "token" | "namePrefix" | "logLevel" | "etcdBin" | "etcdctlBin" | "etcdTsMain" | "detached" | "peerProxies">> & {baseDir: string, ports: PortLayout, extraArgs: (name: string) => string[], ownsBaseDir: boolean}} settings
   */
  constructor(settings) {
    /** @readonly */
    this.settings = settings;
    /** Every member ever started or added, in order; removed ones stay (stopped). @type {Member[]} */
    this.members = [];
    /** @type {Map<string, Reservation>} */
    this.reservations = new Map();
    /** Ports handed out, so that no two members (or proxies) get the same one. @type {Set<number>} */
    this.takenPorts = new Set();
    /** Pids blocked on other members' proxies by isolate(), per isolated member. @type {Map<string, number>} */
    this.isolated = new Map();
    if (!settings.detached) attached.add(this);
  }

  /** kind of server the members run. */
  get kind() {
    return this.settings.kind;
  }

  /** baseDir holds each member's data dir and log. */
  get baseDir() {
    return this.settings.baseDir;
  }

  /** token is the --initial-cluster-token. */
  get token() {
    return this.settings.token;
  }

  /**
   * member returns the member called `name`, or throws.
   * @param {string} name
   */
  member(name) {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name} (members: ${this.members.map((x) => x.name)})`);
    return m;
  }

  /** running lists the members whose process runs. */
  running() {
    return this.members.filter((m) => m.running);
  }

  /** endpoints is the client URLs of the running members, comma-separated (etcdctl --endpoints). */
  get endpoints() {
    return this.running()
      .map((m) => m.clientUrl)
      .join(",");
  }

  /**
   * etcdctl runs etcdctl against the running members (or `options.endpoints`).
   * @param {string[]} args
   * @param {{endpoints?: string, input?: string}} [options]
   */
  etcdctl(args, options = {}) {
    return etcdctl(args, {
      bin: this.settings.etcdctlBin,
      endpoints: options.endpoints ?? this.endpoints,
      input: options.input,
    });
  }

  /**
   * portsFor returns the client and peer port of the member with 0-based slot `i`.
   * @param {number} i
   */
  async portsFor(i) {
    const layout = this.settings.ports;
    /** @type {{client: number, peer: number}} */
    let p;
    if (layout === "free") {
      return { client: await freePort(this.takenPorts), peer: await freePort(this.takenPorts) };
    } else if (layout === "procfile") {
      if (i > 5) throw new Error("the procfile port layout has room for 6 members; use a base port");
      const client = i === 0 ? 2379 : (i + 1) * 10000 + 2379;
      p = { client, peer: client + 1 };
    } else {
      p = { client: layout + 2 * i, peer: layout + 2 * i + 1 };
    }
    for (const port of [p.client, p.peer]) {
      if (this.takenPorts.has(port) || (await portInUse(port))) {
        throw new Error(
          `port ${port} (for member ${i + 1}) is in use; stop what uses it or pick other ports`,
        );
      }
      this.takenPorts.add(port);
    }
    return p;
  }

  /**
   * reserveMember sets aside ports (and a peer proxy when the cluster uses them) for a member about to be
   * added. Advertise the result's peerUrl in `etcdctl member add`.
   * @param {string} [name] default: the next <prefix><n>
   * @returns {Promise<Reservation>}
   */
  async reserveMember(name) {
    const slot = this.members.length + this.reservations.size;
    const memberName = name ?? `${this.settings.namePrefix}${slot + 1}`;
    if (this.reservations.has(memberName) || this.members.some((m) => m.name === memberName))
      throw new Error(`member name ${memberName} is taken`);
    const ports = await this.portsFor(slot);
    const proxy = this.settings.peerProxies ? await startTcpProxy({ target: ports.peer }) : undefined;
    if (proxy !== undefined) this.takenPorts.add(proxy.port);
    /** @type {Reservation} */
    const r = {
      name: memberName,
      clientPort: ports.client,
      peerPort: ports.peer,
      peerUrl: proxy?.url ?? `http://127.0.0.1:${ports.peer}`,
      proxy,
    };
    this.reservations.set(memberName, r);
    return r;
  }

  /**
   * newMember builds (does not start) a member from a reservation.
   * @param {Reservation} r
   * @param {string} initialCluster
   * @param {"new" | "existing"} state
   */
  newMember(r, initialCluster, state) {
    const s = this.settings;
    const member = new Member({
      kind: s.kind,
      name: r.name,
      ...memberPaths(s.baseDir, r.name),
      clientPort: r.clientPort,
      peerPort: r.peerPort,
      peerUrl: r.peerUrl,
      initialCluster,
      initialClusterState: state,
      token: s.token,
      logLevel: s.logLevel,
      extraArgs: s.extraArgs(r.name),
      detached: s.detached,
      etcdBin: s.etcdBin,
      etcdTsMain: s.etcdTsMain,
    });
    member.proxy = r.proxy;
    this.reservations.delete(r.name);
    this.members.push(member);
    return member;
  }

  /**
   * startAddedMember starts the process of a member that `etcdctl member add` has just added, with
   * `--initial-cluster-state existing` and the ETCD_INITIAL_CLUSTER that member add printed. `added` is that
   * command's stdout (or its parsed form). The member's ports come from reserveMember(name) when there was
   * one; otherwise it listens on the port of its advertised peer URL and gets a free client port.
   * @param {string | MemberAddOutput} added
   * @param {{readiness?: Readiness, timeoutMs?: number, wait?: boolean}} [options] readiness defaults to
   *   "up" (a learner, or a voter still catching up, may not be healthy yet); wait: false returns at once
   * @returns {Promise<Member>}
   */
  async startAddedMember(added, options = {}) {
    const info = typeof added === "string" ? parseMemberAddOutput(added) : added;
    let r = this.reservations.get(info.name);
    if (r === undefined) {
      const peerUrl = info.peerUrls[0] ?? "";
      const peerPort = Number(new URL(peerUrl).port);
      r = {
        name: info.name,
        clientPort: await freePort(this.takenPorts),
        peerPort,
        peerUrl,
        proxy: undefined,
      };
      this.takenPorts.add(peerPort);
    } else if (!info.peerUrls.includes(r.peerUrl)) {
      throw new Error(
        `member add advertised ${info.peerUrls} for ${info.name}, but ${r.peerUrl} was reserved`,
      );
    }
    const member = this.newMember(r, info.initialCluster, "existing");
    member.spawn();
    if (options.wait !== false) {
      await member.waitReady({ readiness: options.readiness ?? "up", timeoutMs: options.timeoutMs });
    }
    return member;
  }

  /**
   * addMember does both halves of adding a member: `etcdctl member add` (as a learner when asked) against the
   * running members, then startAddedMember with its output.
   * @param {{name?: string, learner?: boolean, readiness?: Readiness, timeoutMs?: number, endpoints?: string}} [options]
   *   endpoints: where to send member add (default: the running members)
   * @returns {Promise<{member: Member, memberId: string, output: string}>}
   */
  async addMember(options = {}) {
    const r = await this.reserveMember(options.name);
    const args = ["member", "add", r.name, `--peer-urls=${r.peerUrl}`];
    if (options.learner) args.push("--learner");
    const target = { endpoints: options.endpoints };
    let res = await this.etcdctl(args, target);
    // etcd refuses reconfiguration until every member has been connected for a few seconds (its health
    // interval) after a start: "etcdserver: unhealthy cluster". That passes by itself, so try again.
    const deadline = Date.now() + UNHEALTHY_RETRY_MS;
    while (res.code !== 0 && /unhealthy cluster/.test(res.stderr) && Date.now() < deadline) {
      await sleep(500);
      res = await this.etcdctl(args, target);
    }
    if (res.code !== 0) {
      this.reservations.delete(r.name);
      await r.proxy?.close();
      throw new Error(`etcdctl ${args.join(" ")} failed (${res.code}):\n${res.stdout}${res.stderr}`);
    }
    const info = parseMemberAddOutput(res.stdout);
    const member = await this.startAddedMember(info, options);
    return { member, memberId: info.memberId, output: res.stdout };
  }

  /**
   * isolate cuts `name` off from every other member, both ways, until heal(name): its own peer proxy is paused
   * (nobody reaches it) and the other members' proxies refuse the connections its process opens. Needs
   * peerProxies and Linux. Client traffic is not touched.
   * @param {string} name
   * @param {{mode?: import("./tcp-proxy.mjs").PauseMode}} [options]
   */
  isolate(name, options = {}) {
    const target = this.member(name);
    const own = this.proxyOf(target);
    own.pause(options);
    const pid = target.pid;
    if (pid === undefined) return;
    this.isolated.set(name, pid);
    for (const m of this.members) if (m !== target && m.proxy !== undefined) m.proxy.block(pid);
  }

  /**
   * heal undoes isolate(name).
   * @param {string} name
   */
  heal(name) {
    const target = this.member(name);
    this.proxyOf(target).resume();
    const pid = this.isolated.get(name);
    this.isolated.delete(name);
    if (pid === undefined) return;
    for (const m of this.members) if (m !== target) m.proxy?.unblock(pid);
  }

  /** @param {Member} m */
  proxyOf(m) {
    if (m.proxy === undefined)
      throw new Error(`${m.name} has no peer proxy (start the cluster with peerProxies)`);
    return m.proxy;
  }

  /**
   * status asks each running member for its view (the JSON gateway's /v3/maintenance/status).
   * @returns {Promise<MemberStatus[]>}
   */
  async status() {
    return Promise.all(this.members.map((m) => memberStatus(m)));
  }

  /**
   * leader returns the running member that all running members (or all of `among`, e.g. the majority side of
   * a partition) agree leads, or undefined.
   * @param {{among?: Member[]}} [options]
   * @returns {Promise<Member | undefined>}
   */
  async leader(options = {}) {
    const asked = options.among ?? this.members;
    const all = (await Promise.all(asked.map((m) => memberStatus(m)))).filter((s) => s.running);
    const ids = new Set(all.map((s) => s.leaderId));
    if (ids.size !== 1 || all.some((s) => s.leaderId === undefined || s.leaderId === "0")) return undefined;
    const lead = all.find((s) => s.memberId === all[0]?.leaderId);
    return lead === undefined ? undefined : this.member(lead.name);
  }

  /**
   * waitLeader polls until the running members (or `among`) agree on a leader and returns it; throws after
   * `timeoutMs` (default 30 s). `except` rejects a leader (e.g. the one just killed or isolated) and waits for
   * another.
   * @param {{timeoutMs?: number, except?: Member, among?: Member[]}} [options]
   * @returns {Promise<Member>}
   */
  async waitLeader(options = {}) {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const lead = await this.leader({ among: options.among });
      if (lead !== undefined && lead !== options.except) return lead;
      if (Date.now() > deadline) throw new Error("the running members did not agree on a leader in time");
      await sleep(100);
    }
  }

  /**
   * stop ends every member with `signal` (default SIGTERM; SIGKILL after a while) and closes the proxies. Does
   * not remove files; see cleanup().
   * @param {NodeJS.Signals} [signal]
   */
  async stop(signal = "SIGTERM") {
    if (signal === "SIGKILL") {
      await Promise.all(this.members.map((m) => m.stop(signal)));
    } else {
      // One by one, the leader last: a stopping etcd leader first tries to hand leadership to a connected
      // follower, and waits for that in vain (seconds) when the followers are stopping at the same time.
      const lead = await this.leader().catch(() => undefined);
      for (const m of this.members) if (m !== lead) await m.stop(signal);
      await lead?.stop(signal);
    }
    await Promise.all([
      ...this.members.map((m) => m.proxy?.close()),
      ...[...this.reservations.values()].map((r) => r.proxy?.close()),
    ]);
  }

  /**
   * cleanup stops the cluster and removes its base dir when startCluster created it. Its default signal is
   * SIGKILL: the data is thrown away, so a graceful stop would only take time.
   * @param {NodeJS.Signals} [signal]
   */
  async cleanup(signal = "SIGKILL") {
    await this.stop(signal);
    attached.delete(this);
    if (this.settings.ownsBaseDir) rmSync(this.baseDir, { recursive: true, force: true });
  }

  /** toJSON is the state the CLI writes (and `stop` reads). */
  toJSON() {
    const { extraArgs, ownsBaseDir, ...settings } = this.settings;
    return {
      ...settings,
      members: this.members.map((m) => m.toJSON()),
    };
  }

  /**
   * adopt adds a member that this Cluster object did not start (one recorded by the CLI) without starting it,
   * so that names, slots and ports of later members do not collide with it.
   * @param {import("./member-process.mjs").MemberConfig} config
   * @returns {Member}
   */
  adopt(config) {
    const member = new Member(config);
    this.members.push(member);
    this.takenPorts.add(config.clientPort);
    this.takenPorts.add(config.peerPort);
    return member;
  }
}

/**
 * @typedef {object} MemberStatus
 * @property {string} name
 * @property {number | undefined} pid
 * @property {boolean} running
 * @property {string | undefined} memberId   decimal, as the JSON gateway prints uint64
 * @property {string | undefined} leaderId
 * @property {number | undefined} raftTerm
 * @property {boolean | undefined} isLearner
 * @property {string | undefined} error
 */

/**
 * memberStatus asks one member for its status over the JSON gateway.
 * @param {Member} m
 * @returns {Promise<MemberStatus>}
 */
export async function memberStatus(m) {
  /** @type {MemberStatus} */
  const base = {
    name: m.name,
    pid: m.pid,
    running: m.running,
    memberId: undefined,
    leaderId: undefined,
    raftTerm: undefined,
    isLearner: undefined,
    error: undefined,
  };
  if (!m.running) return base;
  const s = await gatewayStatus(m.clientUrl);
  return { ...base, ...s };
}

/**
 * gatewayStatus POSTs /v3/maintenance/status to a client URL.
 * @param {string} clientUrl
 * @returns {Promise<Partial<MemberStatus>>}
 */
export async function gatewayStatus(clientUrl) {
  try {
    const res = await fetch(`${clientUrl}/v3/maintenance/status`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
      signal: AbortSignal.timeout(2_000),
    });
    const body = /** @type {any} */ (await res.json());
    if (res.status !== 200) return { error: String(body?.error ?? body?.message ?? res.status) };
    return {
      memberId: String(body.header?.member_id ?? ""),
      leaderId: String(body.leader ?? "0"),
      raftTerm: Number(body.raftTerm ?? body.header?.raft_term ?? 0),
      isLearner: body.isLearner === true,
    };
  } catch (err) {
    return { error: /** @type {Error} */ (err).message };
  }
}

/**
 * startCluster bootstraps `size` members together (--initial-cluster-state new) and waits until each is
 * ready. On failure every process it started is ended before the error is thrown.
 * @param {ClusterOptions} [options]
 * @returns {Promise<Cluster>}
 */
export async function startCluster(options = {}) {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE)
    throw new Error(`cluster size must be 1..${MAX_SIZE}, got ${size}`);
  const ownsBaseDir = options.baseDir === undefined;
  const baseDir =
    options.baseDir === undefined
      ? mkdtempSync(join(tmpdir(), `etcd-cluster-${options.kind ?? "etcd-ts"}-`))
      : resolve(options.baseDir);
  mkdirSync(baseDir, { recursive: true });
  const extra = options.extraArgs ?? [];
  const cluster = new Cluster({
    kind: options.kind ?? "etcd-ts",
    token: options.token ?? "etcd-cluster-1",
    namePrefix: options.namePrefix ?? "infra",
    logLevel: options.logLevel ?? "warn",
    etcdBin: options.etcdBin ?? "etcd",
    etcdctlBin: options.etcdctlBin ?? "etcdctl",
    etcdTsMain: options.etcdTsMain ?? ETCD_TS_MAIN,
    detached: options.detached ?? false,
    peerProxies: options.peerProxies ?? false,
    baseDir,
    ports: options.ports ?? options.basePort ?? "free",
    extraArgs: typeof extra === "function" ? extra : () => extra,
    ownsBaseDir,
  });
  try {
    /** @type {Reservation[]} */
    const slots = [];
    for (let i = 0; i < size; i++) slots.push(await cluster.reserveMember());
    const initialCluster = slots.map((r) => `${r.name}=${r.peerUrl}`).join(",");
    const members = slots.map((r) => cluster.newMember(r, initialCluster, "new"));
    for (const m of members) m.spawn();
    options.onSpawn?.(cluster);
    await Promise.all(
      members.map((m) => m.waitReady({ readiness: options.readiness, timeoutMs: options.readyTimeoutMs })),
    );
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
