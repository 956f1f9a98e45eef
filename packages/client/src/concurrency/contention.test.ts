import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "../client.js";
import { BACKENDS, startServer, type TestServer } from "../testing/servers.js";

const worker = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../test-workers/contender.mjs");

interface Record {
  id: number;
  event: string;
  token?: string;
  succeeded?: boolean;
}

/** Contender is one child process; `records` fills as it prints. */
class Contender {
  readonly records: Record[] = [];
  readonly exited: Promise<number | null>;
  readonly child: ChildProcess;
  private waiters: { event: string; resolve: (r: Record) => void }[] = [];
  private stderr = "";

  constructor(args: object) {
    this.child = spawn(process.execPath, [worker, JSON.stringify(args)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffered = "";
    this.child.stdout?.on("data", (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const record = JSON.parse(buffered.slice(0, nl)) as Record;
        buffered = buffered.slice(nl + 1);
        this.records.push(record);
        for (const w of this.waiters.filter((w) => w.event === record.event)) w.resolve(record);
        this.waiters = this.waiters.filter((w) => w.event !== record.event);
      }
    });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** next resolves with the first record of `event` (already printed or to come). */
  next(event: string): Promise<Record> {
    const seen = this.records.find((r) => r.event === event);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ event, resolve }));
  }

  async finished(): Promise<void> {
    const code = await this.exited;
    if (code !== 0) throw new Error(`contender exited with ${code}:\n${this.stderr}`);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

describe.each(BACKENDS)("lock and election contention across processes against %s", (backend) => {
  let server: TestServer;
  let client: EtcdClient;
  const contenders: Contender[] = [];
  beforeAll(async () => {
    server = await startServer(backend);
    client = new EtcdClient({ endpoints: [server.endpoint] });
  });
  afterAll(async () => {
    for (const c of contenders) c.kill("SIGKILL");
    client?.close();
    await server?.destroy();
  });

  const spawnAll = (n: number, args: object): Contender[] => {
    const started = Array.from(
      { length: n },
      (_, id) => new Contender({ endpoint: server.endpoint, id, ...args }),
    );
    contenders.push(...started);
    return started;
  };

  /** The guard's fence history, read back from etcd, must be strictly increasing. */
  async function fenceHistory(name: string): Promise<bigint[]> {
    const tokens: bigint[] = [];
    const w = client.watch(`${name}-guard/fence`, { startRevision: 1 });
    const now = await client.get(`${name}-guard/fence`);
    const last = now.kvs[0]?.modRevision ?? 0n;
    if (last === 0n) return tokens;
    for await (const e of w) {
      tokens.push(BigInt(e.kv.valueString));
      if (e.kv.modRevision >= last) break;
    }
    await w.cancel();
    return tokens;
  }

  for (const mode of ["mutex", "election"] as const) {
    it(`${mode}: never two holders at once; fencing tokens only grow`, async () => {
      const name = `contend-${mode}`;
      const all = spawnAll(4, { mode, name, rounds: 4, holdMs: 15 });
      await Promise.all(all.map((c) => c.finished()));
      const records = all.flatMap((c) => c.records);
      expect(records.filter((r) => r.event === "violation" || r.event === "stale-token")).toEqual([]);
      const acquired = records.filter((r) => r.event === "acquired").map((r) => BigInt(r.token ?? "0"));
      expect(acquired).toHaveLength(16);
      expect(new Set(acquired).size).toBe(16);
      const history = await fenceHistory(name);
      expect(history).toHaveLength(16);
      for (let i = 1; i < history.length; i++) expect(history[i]).toBeGreaterThan(history[i - 1] as bigint);
    });

    it(`${mode}: a paused holder loses its lease and hands over; woken up, it is fenced off`, async () => {
      const name = `handover-${mode}`;
      const [paused] = spawnAll(1, { mode, name, holdForever: true, holdMs: 100, ttlSeconds: 2 }) as [
        Contender,
      ];
      const first = await paused.next("holding");
      // Pause the holder: its keep-alives stop, its lease expires, and the lock or leadership moves on.
      paused.kill("SIGSTOP");
      const [next] = spawnAll(1, { mode, name, rounds: 1, holdMs: 10, ttlSeconds: 2 }) as [Contender];
      const took = await next.next("acquired");
      expect(BigInt(took.token ?? "0")).toBeGreaterThan(BigInt(first.token ?? "0"));
      await next.finished();
      expect(next.records.filter((r) => r.event === "violation" || r.event === "stale-token")).toEqual([]);
      // The old holder wakes up believing it holds the lock; its ownership-fenced write is refused.
      paused.kill("SIGCONT");
      const late = await paused.next("fenced-write");
      expect(late.succeeded).toBe(false);
      paused.kill("SIGKILL");
    });
  }
});
