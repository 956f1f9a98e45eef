/**
 * `watch`: prints the events on a key or range; runs a command per event after `--`; `-i` reads watch and
 * progress requests from stdin.
 */
import { spawn } from "node:child_process";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { prefixEnd } from "@etcd-ts/client";
import {
  ResponseHeaderSchema,
  Watch,
  type WatchRequestSchema,
  type WatchResponse,
} from "@etcd-ts/proto/etcdserverpb";
import { Event_EventType, EventSchema } from "@etcd-ts/proto/mvccpb";
import { AsyncQueue } from "../async-queue.js";
import type { CommandSpec } from "../command.js";
import { badArgs, ExitCode, ExitError } from "../errors.js";
import type { FlagSpec } from "../flag-set.js";
import { parseFlags } from "../flag-set.js";
import { goJson } from "../go-json.js";
import { utf8 } from "../key-range.js";
import { formatOf, goQuote, line, printKV } from "../output.js";
import { signalReady } from "../ready-signal.js";
import { etcdctlErrorText, toRpcFailure } from "../rpc-error.js";
import type { Session } from "../session.js";
import { argify } from "./txn.js";

type WatchRequestInit = MessageInitShape<typeof WatchRequestSchema>;

const WATCH_FLAGS: FlagSpec[] = [
  { name: "interactive", short: "i", kind: "bool", defaultValue: false, usage: "Interactive mode" },
  { name: "prefix", kind: "bool", defaultValue: false, usage: "Watch on a prefix if prefix is set" },
  {
    name: "prev-kv",
    kind: "bool",
    defaultValue: false,
    usage: "get the previous key-value pair before the event happens",
  },
  { name: "rev", kind: "int", defaultValue: 0n, usage: "Revision to start watching" },
];

interface WatchSpec {
  args: string[];
  prefix: boolean;
  prevKv: boolean;
  rev: bigint;
}

const BAD_ARGS_NUM = "bad number of arguments";

function createRequest(spec: WatchSpec): WatchRequestInit {
  // etcdctl's parseWatchArgs: errBadArgsNum; its "too many arguments" for more than a key and a range end.
  if (spec.args.length === 0) throw badArgs(BAD_ARGS_NUM);
  if (spec.args.length > 2) throw badArgs("too many arguments");
  const key = utf8(spec.args[0] as string);
  let rangeEnd = spec.args.length === 2 ? utf8(spec.args[1] as string) : new Uint8Array();
  if (spec.prefix) {
    if (spec.args.length === 2) throw badArgs("`range_end` and `--prefix` are mutually exclusive");
    rangeEnd = key.length === 0 ? new Uint8Array([0]) : prefixEnd(key);
  }
  return {
    requestUnion: {
      case: "createRequest",
      value: {
        key: key.length === 0 && spec.prefix ? new Uint8Array([0]) : key,
        rangeEnd,
        startRevision: spec.rev,
        prevKv: spec.prevKv,
      },
    },
  };
}

function eventTypeName(type: Event_EventType): string {
  return type === Event_EventType.DELETE ? "DELETE" : "PUT";
}

function printWatchResponse(s: Session, r: WatchResponse): void {
  const format = formatOf(s);
  if (format === "json") {
    const events =
      r.events.length === 0 ? "null" : `[${r.events.map((e) => goJson(EventSchema, e as never)).join(",")}]`;
    const header = goJson(ResponseHeaderSchema, (r.header ?? {}) as never);
    line(
      s,
      `{"Header":${header},"Events":${events},"CompactRevision":${r.compactRevision},"Canceled":${r.canceled},"Created":${r.created}}`,
    );
    return;
  }
  for (const e of r.events) {
    line(s, eventTypeName(e.type));
    if (e.prevKv !== undefined) printKV(s, e.prevKv);
    if (e.kv !== undefined) printKV(s, e.kv);
  }
}

async function runExec(s: Session, command: string[], r: WatchResponse): Promise<void> {
  for (const e of r.events) {
    const env = {
      ...s.io.env,
      ETCD_WATCH_REVISION: String(r.header?.revision ?? 0n),
      ETCD_WATCH_EVENT_TYPE: `"${eventTypeName(e.type)}"`,
      ETCD_WATCH_KEY: goQuote(e.kv?.key ?? new Uint8Array()),
      ETCD_WATCH_VALUE: goQuote(e.kv?.value ?? new Uint8Array()),
    };
    const code = await new Promise<number | string>((resolve) => {
      const child = spawn(command[0] as string, command.slice(1), {
        env,
        stdio: ["ignore", "inherit", "inherit"],
      });
      child.on("error", (err) => resolve(err.message));
      child.on("close", (c, signal) => resolve(signal ?? c ?? 0));
    });
    if (code !== 0) {
      const why = typeof code === "number" ? `exit status ${code}` : code;
      s.err(`command [${command.join(" ")}] error (${why})\n`);
      throw new ExitError(ExitCode.error, "");
    }
  }
}

/** isProgressNotify is clientv3's test for a progress notification. */
function isProgressNotify(r: WatchResponse): boolean {
  return (
    r.events.length === 0 &&
    !r.canceled &&
    !r.created &&
    r.compactRevision === 0n &&
    (r.header?.revision ?? 0n) !== 0n
  );
}

/** cancelText is clientv3's WatchResponse.Err() text for a canceled watch. */
function cancelText(r: WatchResponse): string {
  if (r.compactRevision !== 0n) return "etcdserver: mvcc: required revision has been compacted";
  if (r.cancelReason !== "") return r.cancelReason;
  return "etcdserver: no leader";
}

async function watchLoop(
  s: Session,
  requests: AsyncQueue<WatchRequestInit>,
  exec: string[],
  interactive: boolean,
): Promise<void> {
  const abort = new AbortController();
  try {
    const target = await s.streamTarget(abort.signal);
    const stream = target.endpoint.client(Watch).watch(requests, target.options);
    for await (const r of stream) {
      if (r.created && !r.canceled) {
        signalReady(s.io.env);
        continue;
      }
      if (r.canceled) s.err(`watch was canceled (${cancelText(r)})\n`);
      if (isProgressNotify(r)) line(s, `progress notify: ${r.header?.revision ?? 0n}`);
      printWatchResponse(s, r);
      if (exec.length > 0) await runExec(s, exec, r);
      if (r.canceled && !interactive) break;
    }
  } catch (err) {
    if (err instanceof ExitError) throw err;
    throw new ExitError(ExitCode.error, etcdctlErrorText(toRpcFailure(err)));
  } finally {
    requests.close();
    abort.abort();
  }
  throw new ExitError(ExitCode.interrupted, "watch is canceled by the server");
}

/** watch is the `watch` command. */
export const watch: CommandSpec = {
  name: "watch",
  use: "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
  short: "Watches events stream on keys or prefixes",
  flags: WATCH_FLAGS,
  examples: [
    "etcdctl-ts watch --prefix /config/",
    "etcdctl-ts watch --rev 1 foo                      # history first, then live events",
    "etcdctl-ts watch foo -- sh -c 'echo $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY'",
  ],
  async run(ctx) {
    const s = ctx.session;
    formatOf(s);
    const requests = new AsyncQueue<WatchRequestInit>();
    if (!ctx.flag<boolean>("interactive")) {
      const dash = ctx.argsLenAtDash;
      let args = dash < 0 ? ctx.args : ctx.args.slice(0, dash);
      const exec = dash < 0 ? [] : ctx.args.slice(dash);
      const envKey = s.io.env.ETCDCTL_WATCH_KEY;
      if (envKey !== undefined && envKey !== "") {
        args = [
          envKey,
          ...(s.io.env.ETCDCTL_WATCH_RANGE_END ? [s.io.env.ETCDCTL_WATCH_RANGE_END] : []),
          ...args,
        ];
      }
      requests.push(
        createRequest({
          args,
          prefix: ctx.flag("prefix"),
          prevKv: ctx.flag("prev-kv"),
          rev: ctx.flag("rev"),
        }),
      );
      return watchLoop(s, requests, exec, false);
    }
    const loop = watchLoop(s, requests, [], true);
    const reader = (async () => {
      for await (const raw of s.io.stdinLines()) {
        const words = argify(raw);
        if (words[0] === "progress") {
          requests.push({ requestUnion: { case: "progressRequest", value: {} } });
          continue;
        }
        if (words.length < 2 && !s.io.env.ETCDCTL_WATCH_KEY) {
          s.err(`Invalid command ${raw} (command type or key is not provided)\n`);
          continue;
        }
        if (words[0] !== "watch") {
          s.err(`Invalid command ${raw} (only support watch)\n`);
          continue;
        }
        // As etcdctl: bad flags or argument counts end the command (exit 128); a request the arguments
        // cannot make is reported and the next line is read.
        let parsed: ReturnType<typeof parseFlags>;
        try {
          parsed = parseFlags(WATCH_FLAGS, words.slice(1));
        } catch (err) {
          throw badArgs((err as Error).message);
        }
        const dash = parsed.argsLenAtDash;
        const args = dash < 0 ? parsed.args : parsed.args.slice(0, dash);
        if (args.length === 0 || args.length > 2)
          throw badArgs(args.length === 0 ? BAD_ARGS_NUM : "too many arguments");
        try {
          requests.push(
            createRequest({
              args,
              prefix: parsed.values.get("prefix") as boolean,
              prevKv: parsed.values.get("prev-kv") as boolean,
              rev: parsed.values.get("rev") as bigint,
            }),
          );
        } catch (err) {
          s.err(`Invalid command ${raw} (${(err as Error).message})\n`);
        }
      }
      throw new ExitError(ExitCode.invalidInput, "Error reading watch request line: EOF");
    })();
    await Promise.race([loop, reader]);
  },
};
