/**
 * `make-mirror`: copies the keys under --prefix to a destination cluster, then follows the source's changes
 * (each source revision becomes one destination txn). Runs until interrupted; prints the number of keys
 * mirrored every 30 seconds, as etcdctl does.
 */
import { readFileSync } from "node:fs";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { prefixEnd } from "@etcd-ts/client";
import { KV, type RequestOpSchema, Watch } from "@etcd-ts/proto/etcdserverpb";
import { Event_EventType } from "@etcd-ts/proto/mvccpb";
import { AsyncQueue } from "../async-queue.js";
import type { CommandSpec } from "../command.js";
import { badArgs, ExitCode, ExitError } from "../errors.js";
import { utf8 } from "../key-range.js";
import { line } from "../output.js";
import { signalReady } from "../ready-signal.js";
import { failWith } from "../session.js";

/** MIRROR_BATCH is how many keys one range read of the initial copy fetches. */
const MIRROR_BATCH = 1000n;
/** REPORT_INTERVAL_MS is how often the running total is printed. */
const REPORT_INTERVAL_MS = 30_000;

/** makeMirror is the `make-mirror` command. */
export const makeMirror: CommandSpec = {
  name: "make-mirror",
  use: "make-mirror [options] <destination>",
  short: "Makes a mirror at the destination etcd cluster",
  flags: [
    {
      name: "dest-cacert",
      kind: "string",
      defaultValue: "",
      usage: "Verify certificates of TLS enabled secure servers using this CA bundle",
    },
    {
      name: "dest-cert",
      kind: "string",
      defaultValue: "",
      usage: "Identify secure client using this TLS certificate file for the destination cluster",
    },
    {
      name: "dest-insecure-transport",
      kind: "bool",
      defaultValue: true,
      usage: "Disable transport security for client connections",
    },
    {
      name: "dest-key",
      kind: "string",
      defaultValue: "",
      usage: "Identify secure client using this TLS key file",
    },
    {
      name: "dest-prefix",
      kind: "string",
      defaultValue: "",
      usage: "destination prefix to mirror a prefix to a different prefix in the destination cluster",
    },
    {
      name: "no-dest-prefix",
      kind: "bool",
      defaultValue: false,
      usage: "mirror key-values to the root of the destination cluster",
    },
    { name: "prefix", kind: "string", defaultValue: "", usage: "Key-value prefix to mirror" },
  ],
  examples: [
    "etcdctl-ts make-mirror --prefix /app/ 10.0.1.1:2379",
    "etcdctl-ts make-mirror --prefix a/ --dest-prefix b/ 127.0.0.1:2379   # within one cluster",
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("make-mirror takes one destination argument.");
    const s = ctx.session;
    const prefix = ctx.flag<string>("prefix");
    let destPrefix = ctx.flag<string>("dest-prefix");
    if (ctx.flag<boolean>("no-dest-prefix") && destPrefix !== "") {
      throw badArgs("`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one");
    }
    if (!ctx.flag<boolean>("no-dest-prefix") && destPrefix === "") destPrefix = prefix;
    const pem = (flag: string) =>
      ctx.flag<string>(flag) === "" ? undefined : readFileSync(ctx.flag<string>(flag), "utf8");
    const ca = pem("dest-cacert");
    const cert = pem("dest-cert");
    const key = pem("dest-key");
    const tls =
      ca === undefined && cert === undefined && key === undefined
        ? undefined
        : { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
    const dest = await s.connect({
      endpoints: [ctx.args[0] as string],
      ...(tls === undefined ? {} : { tls }),
    });
    const rename = (k: Uint8Array) => {
      const text = Buffer.from(k).toString("utf8");
      return utf8(text.startsWith(prefix) ? destPrefix + text.slice(prefix.length) : text);
    };
    let total = 0;
    setInterval(() => line(s, String(total)), REPORT_INTERVAL_MS).unref();
    const run = async () => {
      const first = await s.unary((ep, call) => ep.client(KV).range({ key: utf8("foo") }, call), {
        safe: true,
      });
      const rev = first.header?.revision ?? 0n;
      const start = prefix === "" ? new Uint8Array([0]) : utf8(prefix);
      const end = prefix === "" ? new Uint8Array([0]) : prefixEnd(utf8(prefix));
      let from = start;
      for (;;) {
        const r = await s.unary(
          (ep, call) =>
            ep.client(KV).range({ key: from, rangeEnd: end, revision: rev, limit: MIRROR_BATCH }, call),
          { safe: true },
        );
        for (const kv of r.kvs) {
          await s.unary((ep, call) => ep.client(KV).put({ key: rename(kv.key), value: kv.value }, call), {
            client: dest,
          });
          total++;
        }
        const last = r.kvs[r.kvs.length - 1];
        if (!r.more || last === undefined) break;
        from = new Uint8Array([...last.key, 0]);
      }
      const requests = new AsyncQueue<{
        requestUnion: {
          case: "createRequest";
          value: { key: Uint8Array; rangeEnd: Uint8Array; startRevision: bigint };
        };
      }>();
      requests.push({
        requestUnion: {
          case: "createRequest",
          value: { key: start, rangeEnd: end, startRevision: rev + 1n },
        },
      });
      const abort = new AbortController();
      const target = await s.streamTarget(abort.signal);
      const commit = async (ops: MessageInitShape<typeof RequestOpSchema>[]) => {
        await s.unary((ep, call) => ep.client(KV).txn({ success: ops }, call), { client: dest });
      };
      for await (const w of target.endpoint.client(Watch).watch(requests, target.options)) {
        if (w.created) {
          signalReady(s.io.env);
          continue;
        }
        if (w.compactRevision !== 0n)
          throw new ExitError(ExitCode.error, "etcdserver: mvcc: required revision has been compacted");
        let lastRev = 0n;
        let ops: MessageInitShape<typeof RequestOpSchema>[] = [];
        for (const e of w.events) {
          const kv = e.kv;
          if (kv === undefined) continue;
          if (lastRev !== 0n && kv.modRevision > lastRev) {
            await commit(ops);
            ops = [];
          }
          lastRev = kv.modRevision;
          if (e.type === Event_EventType.PUT)
            ops.push({ request: { case: "requestPut", value: { key: rename(kv.key), value: kv.value } } });
          else ops.push({ request: { case: "requestDeleteRange", value: { key: rename(kv.key) } } });
          total++;
        }
        if (ops.length > 0) await commit(ops);
      }
    };
    await run().catch((e: unknown) => failWith(e));
  },
};
