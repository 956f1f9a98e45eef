/**
 * `lock` and `elect`: etcd's concurrency recipes (the same keys and steps as clientv3's concurrency package,
 * so etcdctl and etcdctl-ts holders queue behind each other).
 */
import { spawn } from "node:child_process";
import { prefixEnd } from "@etcd-ts/client";
import { KV, RangeRequest_SortOrder, RangeRequest_SortTarget, Watch } from "@etcd-ts/proto/etcdserverpb";
import type { KeyValue } from "@etcd-ts/proto/mvccpb";
import { Event_EventType } from "@etcd-ts/proto/mvccpb";
import { AsyncQueue } from "../async-queue.js";
import type { CommandSpec } from "../command.js";
import { badArgs, ExitCode, ExitError } from "../errors.js";
import { utf8 } from "../key-range.js";
import { printGet } from "../kv-output.js";
import { LeaseSession } from "../lease-session.js";
import { hex } from "../output.js";
import { signalReady } from "../ready-signal.js";
import { failWith, type Session } from "../session.js";

/** waitForDeletion blocks until `key` is deleted (watching from `revision`). */
async function waitForDeletion(
  s: Session,
  key: Uint8Array,
  revision: bigint,
  signal: AbortSignal,
): Promise<void> {
  const requests = new AsyncQueue<{
    requestUnion: { case: "createRequest"; value: { key: Uint8Array; startRevision: bigint } };
  }>();
  requests.push({ requestUnion: { case: "createRequest", value: { key, startRevision: revision } } });
  const abort = new AbortController();
  const linked = AbortSignal.any([signal, abort.signal]);
  try {
    const target = await s.streamTarget(linked);
    for await (const r of target.endpoint.client(Watch).watch(requests, target.options)) {
      if (r.events.some((e) => e.type === Event_EventType.DELETE)) return;
      if (r.canceled) throw new ExitError(ExitCode.error, r.cancelReason);
    }
  } finally {
    requests.close();
    abort.abort();
  }
}

/** waitDeletes waits until every key under `prefix` created before `maxCreateRevision` is gone. */
async function waitDeletes(
  s: Session,
  prefix: Uint8Array,
  maxCreateRevision: bigint,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    const r = await s.unary(
      (ep, call) =>
        ep.client(KV).range(
          {
            key: prefix,
            rangeEnd: prefixEnd(prefix),
            sortTarget: RangeRequest_SortTarget.CREATE,
            sortOrder: RangeRequest_SortOrder.DESCEND,
            limit: 1n,
            maxCreateRevision,
          },
          call,
        ),
      { safe: true, timeoutMs: 0, signal },
    );
    const last = r.kvs[0];
    if (last === undefined) return;
    await waitForDeletion(s, last.key, r.header?.revision ?? 0n, signal);
  }
}

/** Candidate is a key of ours queued under a prefix (a lock waiter or an election candidate). */
interface Candidate {
  key: Uint8Array;
  createRevision: bigint;
}

/** queue puts our key (lease-bound) under `prefix` and waits until it is the oldest. */
async function queue(
  s: Session,
  lease: LeaseSession,
  prefix: string,
  value: Uint8Array,
  signal: AbortSignal,
): Promise<Candidate> {
  const key = utf8(`${prefix}${hex(lease.id)}`);
  const r = await s.unary((ep, call) =>
    ep.client(KV).txn(
      {
        compare: [{ key, target: 1, result: 0, targetUnion: { case: "createRevision", value: 0n } }],
        success: [{ request: { case: "requestPut", value: { key, value, lease: lease.id } } }],
        failure: [{ request: { case: "requestRange", value: { key } } }],
      },
      call,
    ),
  );
  signalReady(s.io.env);
  let createRevision = r.header?.revision ?? 0n;
  if (!r.succeeded) {
    const existing = r.responses[0]?.response;
    if (existing?.case === "responseRange")
      createRevision = existing.value.kvs[0]?.createRevision ?? createRevision;
  }
  await waitDeletes(s, utf8(prefix), createRevision - 1n, signal);
  return { key, createRevision };
}

function signalled(): { signal: AbortSignal; done: Promise<void> } {
  const abort = new AbortController();
  const done = new Promise<void>((resolve) => {
    const on = () => {
      abort.abort();
      resolve();
    };
    process.once("SIGINT", on);
    process.once("SIGTERM", on);
  });
  return { signal: abort.signal, done };
}

async function runCommand(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0] as string, command.slice(1), {
      env,
      stdio: ["inherit", "inherit", "inherit"],
    });
    child.on("error", () => resolve(1));
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/** lock is the `lock` command. */
export const lock: CommandSpec = {
  name: "lock",
  use: "lock <lockname> [exec-command arg1 arg2 ...]",
  short: "Acquires a named lock",
  flags: [{ name: "ttl", kind: "int", defaultValue: 10n, usage: "timeout for session" }],
  examples: [
    "etcdctl-ts lock mylock                 # holds the lock until Ctrl-C",
    "etcdctl-ts lock mylock -- ./critical-section.sh",
  ],
  async run(ctx) {
    if (ctx.args.length === 0)
      throw badArgs("lock takes a lock name argument and an optional command to execute.");
    const s = ctx.session;
    const stop = signalled();
    const lease = await LeaseSession.open(s, ctx.flag<bigint>("ttl")).catch((e: unknown) => failWith(e));
    try {
      const me = await queue(s, lease, `${ctx.args[0]}/`, new Uint8Array(), stop.signal).catch((e: unknown) =>
        failWith(e),
      );
      const unlock = () =>
        s
          .unary((ep, call) => ep.client(KV).deleteRange({ key: me.key }, call))
          .catch((e: unknown) => failWith(e));
      if (ctx.args.length > 1) {
        const env = {
          ETCD_LOCK_KEY: Buffer.from(me.key).toString(),
          ETCD_LOCK_REV: String(me.createRevision),
          ...s.io.env,
        };
        const code = await runCommand(ctx.args.slice(1), env);
        await unlock();
        if (code !== 0) throw new ExitError(ExitCode.error, `exit status ${code}`);
        return;
      }
      const got = await s
        .unary((ep, call) => ep.client(KV).range({ key: me.key }, call), { safe: true })
        .catch((e: unknown) => failWith(e));
      if (got.kvs.length === 0) throw new ExitError(ExitCode.error, "lock lost on init");
      printGet(s, got);
      const lost = await Promise.race([stop.done.then(() => false), lease.lost.then(() => true)]);
      if (lost) throw new ExitError(ExitCode.error, "session expired");
      await unlock();
    } finally {
      lease.close();
    }
  },
};

/** observe prints the leader of an election each time it changes, until a signal. */
async function observe(s: Session, prefix: string, signal: AbortSignal): Promise<void> {
  const pfx = utf8(prefix);
  for (;;) {
    const r = await s.unary(
      (ep, call) =>
        ep.client(KV).range(
          {
            key: pfx,
            rangeEnd: prefixEnd(pfx),
            sortTarget: RangeRequest_SortTarget.CREATE,
            sortOrder: RangeRequest_SortOrder.ASCEND,
            limit: 1n,
          },
          call,
        ),
      { safe: true, timeoutMs: 0, signal },
    );
    let leader: KeyValue | undefined = r.kvs[0];
    let revision = r.header?.revision ?? 0n;
    let header = r.header;
    const requests = new AsyncQueue<{
      requestUnion: {
        case: "createRequest";
        value: { key: Uint8Array; rangeEnd?: Uint8Array; startRevision: bigint };
      };
    }>();
    const abort = new AbortController();
    const linked = AbortSignal.any([signal, abort.signal]);
    try {
      const target = await s.streamTarget(linked);
      if (leader === undefined) {
        requests.push({
          requestUnion: {
            case: "createRequest",
            value: { key: pfx, rangeEnd: prefixEnd(pfx), startRevision: revision },
          },
        });
      }
      const stream = target.endpoint.client(Watch).watch(requests, target.options);
      if (leader !== undefined) {
        printGet(s, { ...r, kvs: [leader] });
        requests.push({
          requestUnion: { case: "createRequest", value: { key: leader.key, startRevision: revision + 1n } },
        });
      }
      for await (const w of stream) {
        if (w.created) {
          signalReady(s.io.env);
          continue;
        }
        for (const e of w.events) {
          if (leader === undefined) {
            if (e.type !== Event_EventType.PUT || e.kv === undefined) continue;
            leader = e.kv;
            header = w.header;
            revision = w.header?.revision ?? revision;
            printGet(s, { ...r, header, kvs: [leader] });
            break;
          }
          if (e.type === Event_EventType.DELETE) {
            leader = undefined;
            break;
          }
          if (e.kv !== undefined) printGet(s, { ...r, header: w.header, kvs: [e.kv] });
        }
        if (leader === undefined && w.events.some((e) => e.type === Event_EventType.DELETE)) break;
      }
    } finally {
      requests.close();
      abort.abort();
    }
  }
}

/** elect is the `elect` command. */
export const elect: CommandSpec = {
  name: "elect",
  use: "elect <election-name> [proposal]",
  short: "Observes and participates in leader election",
  flags: [{ name: "listen", short: "l", kind: "bool", defaultValue: false, usage: "observation mode" }],
  examples: [
    "etcdctl-ts elect leader-of-jobs node-1   # campaign, hold leadership until Ctrl-C",
    "etcdctl-ts elect -l leader-of-jobs        # print each new leader",
  ],
  async run(ctx) {
    const listen = ctx.flag<boolean>("listen");
    if (ctx.args.length !== 1 && ctx.args.length !== 2)
      throw badArgs("elect takes one election name argument and an optional proposal argument.");
    if (!listen && ctx.args.length !== 2) throw badArgs("no proposal argument but -l not set");
    if (listen && ctx.args.length === 2) throw badArgs("proposal given but -l is set");
    const s = ctx.session;
    const stop = signalled();
    const prefix = `${ctx.args[0]}/`;
    if (listen) {
      // etcdctl opens a session (a lease) for observing too.
      const session = await LeaseSession.open(s, 60n).catch((e: unknown) => failWith(e));
      try {
        await Promise.race([
          observe(s, prefix, stop.signal).catch((e: unknown) =>
            stop.signal.aborted ? undefined : failWith(e),
          ),
          stop.done,
        ]);
      } finally {
        session.close();
      }
      return;
    }
    const lease = await LeaseSession.open(s, 60n).catch((e: unknown) => failWith(e));
    try {
      const me = await queue(s, lease, prefix, utf8(ctx.args[1] as string), stop.signal).catch((e: unknown) =>
        failWith(e),
      );
      const got = await s
        .unary((ep, call) => ep.client(KV).range({ key: me.key }, call), { safe: true })
        .catch((e: unknown) => failWith(e));
      printGet(s, got);
      const lost = await Promise.race([stop.done.then(() => false), lease.lost.then(() => true)]);
      if (lost) throw new ExitError(ExitCode.error, "elect: session expired");
      await s
        .unary((ep, call) => ep.client(KV).deleteRange({ key: me.key }, call))
        .catch((e: unknown) => failWith(e));
    } finally {
      lease.close();
    }
  },
};
