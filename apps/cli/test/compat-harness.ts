/**
 * Runs tools/compat's etcdctl step list (plus our extra steps) twice in lockstep: Debian's etcdctl against one
 * real etcd 3.4, etcdctl-ts against another, both started here on 127.0.0.1 with free ports and temp data
 * dirs. Outputs are normalised with tools/compat's normaliser (per server: its ids, ports and paths) and
 * compared step by step: stdout, stderr and exit code.
 *
 * tools/compat belongs to another package; its modules are imported read-only.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error: plain JS module without types
import { runEtcdctl, startEtcdctl, stopBackground, tokenize } from "../../../tools/compat/etcdctl.mjs";
// @ts-expect-error: plain JS module without types
import { LeaseRegistry, normalizeOutput } from "../../../tools/compat/normalize.mjs";
// @ts-expect-error: plain JS module without types
import { sleep, startServer, stopServer } from "../../../tools/compat/server-process.mjs";

const here = dirname(fileURLToPath(import.meta.url));
/** cliMain is the built etcdctl-ts. */
export const cliMain = resolve(here, "../dist/main.js");

/** Step is one entry of the list (see tools/compat/steps.mjs for the meaning of each field). */
export interface Step {
  run?: string;
  start?: string;
  id?: string;
  waitFor?: string;
  stop?: string;
  until?: { lines?: number; timeoutMs?: number; settleMs?: number };
  signal?: "SIGTERM" | "SIGINT";
  sleepMs?: number;
  stdin?: string | { repeat: string; bytes: number };
  capture?: Record<string, RegExp>;
  sortLines?: boolean;
  knownDifference?: string;
  ignoreHash?: string;
  note?: string;
  /** registerId names a capture holding a hex id (a new member) that the normaliser should replace. */
  registerId?: string;
  /**
   * canonical rewrites both normalised stdouts before they are compared, for output whose order or content
   * depends on the server's random ids (etcd lists members sorted by id).
   */
  canonical?: (stdout: string) => string;
}

interface Outcome {
  stdout: string;
  stderr: string;
  exit: string;
}

interface Background {
  pid: number;
  stdout(): string;
  running(): boolean;
  kill(signal: string): void;
  done: Promise<Outcome>;
}

interface RunningServer {
  label: string;
  endpoint: string;
  clientPort: number;
  peerPort: number;
  dir: string;
  child: { exitCode: number | null; signalCode: string | null };
}

interface Side {
  binary: string;
  /** readyDir is where etcdctl-ts signals that a background command is in place (undefined for etcdctl). */
  readyDir?: string;
  server: RunningServer;
  facts: unknown;
  leases: unknown;
  vars: Map<string, string>;
  background: Map<string, Background>;
}

/** Difference is one step whose normalised outcomes differ. */
export interface Difference {
  index: number;
  title: string;
  expected: string;
  actual: string;
}

/** CompatResult sums up a run. */
export interface CompatResult {
  compared: number;
  differences: Difference[];
  /** commands lists the etcdctl command (first one or two words) of every step run. */
  commands: Set<string>;
}

const QUOTA_BACKEND_BYTES = 2 * 1024 * 1024;

function etcdFlags(o: { name: string; dataDir: string; clientUrl: string; peerUrl: string }): string[] {
  return [
    "--quota-backend-bytes",
    String(QUOTA_BACKEND_BYTES),
    "--name",
    o.name,
    "--data-dir",
    o.dataDir,
    "--listen-client-urls",
    o.clientUrl,
    "--advertise-client-urls",
    o.clientUrl,
    "--listen-peer-urls",
    o.peerUrl,
    "--initial-advertise-peer-urls",
    o.peerUrl,
    "--initial-cluster",
    `${o.name}=${o.peerUrl}`,
    "--log-level",
    "warn",
  ];
}

function expand(template: string, side: Side): string {
  return template.replace(/\{([A-Za-z][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    if (name === "dir") return side.server.dir;
    if (name === "endpoint") return side.server.endpoint;
    return side.vars.get(name) ?? `missing-${name}`;
  });
}

function stdinOf(step: Step, side: Side): Buffer | undefined {
  if (step.stdin === undefined) return undefined;
  if (typeof step.stdin === "string") return Buffer.from(expand(step.stdin, side));
  return Buffer.alloc(step.stdin.bytes, step.stdin.repeat);
}

async function waitUntil(bg: Background, until: Step["until"]): Promise<boolean> {
  const lines = until?.lines ?? 0;
  const deadline = Date.now() + (until?.timeoutMs ?? 5000);
  for (;;) {
    if (bg.stdout().split("\n").length - 1 >= lines) return true;
    if (!bg.running() || Date.now() > deadline) return false;
    await sleep(25);
  }
}

async function runStep(step: Step, side: Side): Promise<Outcome | undefined> {
  if (step.run !== undefined) {
    const outcome: Outcome = await runEtcdctl(
      side.binary,
      side.server.endpoint,
      tokenize(expand(step.run, side)),
      stdinOf(step, side),
    );
    for (const [name, re] of Object.entries(step.capture ?? {})) {
      const m = re.exec(outcome.stdout);
      if (m?.[1] !== undefined) side.vars.set(name, m[1]);
    }
    const id = step.registerId === undefined ? undefined : side.vars.get(step.registerId);
    if (id !== undefined) (side.leases as { register(id: bigint): void }).register(BigInt(`0x${id}`));
    return outcome;
  }
  if (step.start !== undefined) {
    const bg: Background = startEtcdctl(
      side.binary,
      side.server.endpoint,
      tokenize(expand(step.start, side)),
      stdinOf(step, side),
    );
    side.background.set(step.id ?? step.start, bg);
    if (side.readyDir !== undefined) {
      // Wait until etcdctl-ts says its watch/lock/session is in place (it starts slower than Go's etcdctl).
      const deadline = Date.now() + 10_000;
      while (!existsSync(join(side.readyDir, String(bg.pid))) && bg.running() && Date.now() < deadline)
        await sleep(20);
    }
    return undefined;
  }
  const ref = step.waitFor ?? step.stop;
  if (ref !== undefined) {
    const bg = side.background.get(ref);
    if (bg === undefined) throw new Error(`no background command [${ref}]`);
    const reached = await waitUntil(bg, step.until);
    if (step.waitFor !== undefined)
      return { stdout: reached ? "reached\n" : "timed out\n", stderr: "", exit: "" };
    if (reached) await sleep(step.until?.settleMs ?? 200);
    side.background.delete(ref);
    return stopBackground(bg, step.signal ?? "SIGTERM");
  }
  await sleep(step.sleepMs ?? 0);
  return undefined;
}

function render(o: Outcome, step: Step): string {
  const sortIf = (s: string) => (step.sortLines === true ? s.split("\n").sort().join("\n") : s);
  const stdout = step.canonical === undefined ? o.stdout : step.canonical(o.stdout);
  return `[exit ${o.exit}]\n${sortIf(stdout)}\n[stderr]\n${sortIf(o.stderr)}`;
}

async function factsOf(server: RunningServer, runDir: string): Promise<unknown> {
  const o: Outcome = await runEtcdctl(
    "etcdctl",
    server.endpoint,
    ["endpoint", "status", "-w", "json"],
    undefined,
  );
  const cluster = /"cluster_id":(\d+)/.exec(o.stdout)?.[1];
  const member = /"member_id":(\d+)/.exec(o.stdout)?.[1];
  if (cluster === undefined || member === undefined)
    throw new Error(`no ids from ${server.label}: ${o.stdout}${o.stderr}`);
  return {
    endpoint: server.endpoint,
    clientPort: server.clientPort,
    peerPort: server.peerPort,
    dir: server.dir,
    runDir,
    memberId: BigInt(member),
    clusterId: BigInt(cluster),
  };
}

function commandOf(args: string): string {
  const words = args.split(/\s+/).filter((w) => w !== "" && !w.startsWith("-") && !w.startsWith("{"));
  const groups = new Set([
    "lease",
    "member",
    "endpoint",
    "alarm",
    "snapshot",
    "auth",
    "user",
    "role",
    "check",
  ]);
  const first = words[0] ?? "";
  return groups.has(first) ? `${first} ${words[1] ?? ""}` : first;
}

/**
 * runCompat runs `steps` with etcdctl and etcdctl-ts in lockstep and returns what differed.
 * `log` receives one line per differing step as it happens.
 */
export async function runCompat(
  steps: readonly Step[],
  log: (line: string) => void = () => {},
): Promise<CompatResult> {
  const runDir = mkdtempSync(join(tmpdir(), "etcdctl-ts-compat-"));
  const wrapper = join(runDir, "etcdctl-ts");
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${cliMain}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  const readyDir = join(runDir, "ready");
  mkdirSync(readyDir);
  const savedReady = process.env.ETCD_TS_CLI_READY_DIR;
  process.env.ETCD_TS_CLI_READY_DIR = readyDir;
  const servers: RunningServer[] = [];
  const sides: Side[] = [];
  const result: CompatResult = { compared: 0, differences: [], commands: new Set() };
  try {
    const spec = (label: string) => ({ label, command: "etcd", prefixArgs: [], flags: etcdFlags });
    const [a, b] = (await Promise.all([
      startServer(spec("etcd-a"), runDir),
      startServer(spec("etcd-b"), runDir),
    ])) as [RunningServer, RunningServer];
    servers.push(a, b);
    for (const [server, binary] of [
      [a, "etcdctl"],
      [b, wrapper],
    ] as const) {
      sides.push({
        binary,
        ...(binary === wrapper ? { readyDir } : {}),
        server,
        facts: await factsOf(server, runDir),
        leases: new LeaseRegistry(),
        vars: new Map(),
        background: new Map(),
      });
    }
    const [ref, ts] = sides as [Side, Side];
    for (const [i, step] of steps.entries()) {
      const title = step.run ?? step.start ?? `${step.stop ?? step.waitFor ?? "sleep"}`;
      if (step.run !== undefined || step.start !== undefined)
        result.commands.add(commandOf(step.run ?? step.start ?? ""));
      const began = Date.now();
      const [x, y] = await Promise.all([runStep(step, ref), runStep(step, ts)]);
      if (process.env.COMPAT_TRACE !== undefined) log(`[${i + 1}] ${Date.now() - began} ms ${title}`);
      if (x === undefined || y === undefined) continue;
      result.compared++;
      const options = { ignoreHash: step.ignoreHash !== undefined };
      const norm = (o: Outcome, side: Side): Outcome => ({
        stdout: normalizeOutput(o.stdout, side.facts, side.leases, options),
        stderr: normalizeOutput(o.stderr, side.facts, side.leases, options),
        exit: o.exit,
      });
      const expected = render(norm(x, ref), step);
      const actual = render(norm(y, ts), step);
      if (expected !== actual) {
        const d = { index: i + 1, title, expected, actual };
        result.differences.push(d);
        log(`step ${d.index}: ${title}\n--- etcdctl\n${expected}\n--- etcdctl-ts\n${actual}\n`);
      }
    }
    return result;
  } finally {
    for (const side of sides) for (const bg of side.background.values()) await stopBackground(bg, "SIGKILL");
    await Promise.all(servers.map((s) => stopServer(s)));
    if (savedReady === undefined) delete process.env.ETCD_TS_CLI_READY_DIR;
    else process.env.ETCD_TS_CLI_READY_DIR = savedReady;
    rmSync(runDir, { recursive: true, force: true });
  }
}
