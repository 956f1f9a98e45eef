/** `lease grant|revoke|timetolive|list|keep-alive`. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Lease,
  type LeaseKeepAliveRequestSchema,
  type LeaseKeepAliveResponse,
  LeaseRevokeResponseSchema,
} from "@etcd-ts/proto/etcdserverpb";
import { AsyncQueue } from "../async-queue.js";
import type { CommandSpec } from "../command.js";
import { badArgs, ExitCode, ExitError } from "../errors.js";
import { goJsonString } from "../go-json.js";
import { inlineHeaderJson } from "../header-json.js";
import { formatOf, hex16, line, printJson, tableUnsupported } from "../output.js";
import { signalReady } from "../ready-signal.js";
import { etcdctlErrorText, toRpcFailure } from "../rpc-error.js";
import { failWith, type Session } from "../session.js";
import { parseGoInt } from "./compaction.js";
import { parseHexId } from "./put.js";

function leaseIdArg(text: string): bigint {
  const id = parseHexId(text);
  if (id === undefined) {
    throw badArgs(
      `bad lease ID arg (strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax), expecting ID in Hex`,
    );
  }
  return id;
}

function b64(bytes: Uint8Array): string {
  return `"${Buffer.from(bytes).toString("base64")}"`;
}

const grant: CommandSpec = {
  name: "grant",
  use: "grant <ttl>",
  short: "Creates leases",
  examples: [
    "etcdctl-ts lease grant 60",
    "etcdctl-ts put --lease=$(etcdctl-ts lease grant 60 | cut -d' ' -f2) k v",
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("lease grant command needs TTL argument");
    let ttl: bigint;
    try {
      ttl = parseGoInt(ctx.args[0] as string);
    } catch (err) {
      throw badArgs(`bad TTL (${(err as Error).message})`);
    }
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Lease).leaseGrant({ TTL: ttl, ID: 0n }, call))
      .catch((err: unknown) => failWith(err, ExitCode.error, (t) => `failed to grant lease (${t})`));
    switch (formatOf(s)) {
      case "json":
        return line(
          s,
          inlineHeaderJson(r.header, [`"ID":${r.ID}`, `"TTL":${r.TTL}`, `"Error":${goJsonString(r.error)}`]),
        );
      case "fields":
        return s.out(
          `"ClusterID" : ${r.header?.clusterId ?? 0n}\n"MemberID" : ${r.header?.memberId ?? 0n}\n"Revision" : ${r.header?.revision ?? 0n}\n"RaftTerm" : ${r.header?.raftTerm ?? 0n}\n"ID" : ${r.ID}\n"TTL" : ${r.TTL}\n`,
        );
      case "table":
        throw tableUnsupported();
      default:
        line(s, `lease ${hex16(r.ID)} granted with TTL(${r.TTL}s)`);
    }
  },
};

const revoke: CommandSpec = {
  name: "revoke",
  use: "revoke <leaseID>",
  short: "Revokes leases",
  examples: ["etcdctl-ts lease revoke 694d77aa9e38260f"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("lease revoke command needs 1 argument");
    const id = leaseIdArg(ctx.args[0] as string);
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Lease).leaseRevoke({ ID: id }, call))
      .catch((err: unknown) => failWith(err, ExitCode.error, (t) => `failed to revoke lease (${t})`));
    switch (formatOf(s)) {
      case "json":
        printJson(s, LeaseRevokeResponseSchema, r);
        return;
      case "table":
        throw tableUnsupported();
      default:
        line(s, `lease ${hex16(id)} revoked`);
    }
  },
};

const timetolive: CommandSpec = {
  name: "timetolive",
  use: "timetolive <leaseID> [options]",
  short: "Get lease information",
  flags: [{ name: "keys", kind: "bool", defaultValue: false, usage: "Get keys attached to this lease" }],
  examples: ["etcdctl-ts lease timetolive --keys 694d77aa9e38260f"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("lease timetolive command needs lease ID as argument");
    const id = leaseIdArg(ctx.args[0] as string);
    const keys = ctx.flag<boolean>("keys");
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Lease).leaseTimeToLive({ ID: id, keys }, call), { safe: true })
      .catch((err: unknown) => failWith(err, ExitCode.badConnection));
    switch (formatOf(s)) {
      case "json":
        return line(
          s,
          inlineHeaderJson(r.header, [
            `"id":${r.ID}`,
            `"ttl":${r.TTL}`,
            `"granted-ttl":${r.grantedTTL}`,
            `"keys":${r.TTL === -1n && r.keys.length === 0 ? "null" : `[${r.keys.map(b64).join(",")}]`}`,
          ]),
        );
      case "table":
        throw tableUnsupported();
      default: {
        if (r.grantedTTL === 0n && r.TTL === -1n) return line(s, `lease ${hex16(r.ID)} already expired`);
        let text = `lease ${hex16(r.ID)} granted with TTL(${r.grantedTTL}s), remaining(${r.TTL}s)`;
        if (keys)
          text += `, attached keys([${r.keys.map((k) => Buffer.from(k).toString("utf8")).join(" ")}])`;
        line(s, text);
      }
    }
  },
};

const list: CommandSpec = {
  name: "list",
  use: "list",
  short: "List all active leases",
  examples: ["etcdctl-ts lease list"],
  async run(ctx) {
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Lease).leaseLeases({}, call), { safe: true })
      .catch((err: unknown) => failWith(err, ExitCode.error, (t) => `failed to list leases (${t})`));
    switch (formatOf(s)) {
      case "json":
        return line(
          s,
          inlineHeaderJson(r.header, [`"leases":[${r.leases.map((l) => `{"id":${l.ID}}`).join(",")}]`]),
        );
      case "table":
        throw tableUnsupported();
      default:
        line(s, `found ${r.leases.length} leases`);
        for (const l of r.leases) line(s, hex16(l.ID));
    }
  },
};

function printKeepAlive(s: Session, r: LeaseKeepAliveResponse): void {
  switch (formatOf(s)) {
    case "json":
      line(s, inlineHeaderJson(r.header, [`"ID":${r.ID}`, `"TTL":${r.TTL}`]));
      return;
    case "table":
      throw tableUnsupported();
    default:
      line(s, `lease ${hex16(r.ID)} keepalived with TTL(${r.TTL})`);
  }
}

const keepAlive: CommandSpec = {
  name: "keep-alive",
  use: "keep-alive [options] <leaseID>",
  short: "Keeps leases alive (renew)",
  flags: [
    {
      name: "once",
      kind: "bool",
      defaultValue: false,
      usage: "Resets the keep-alive time to its original value and exits immediately",
    },
  ],
  examples: [
    "etcdctl-ts lease keep-alive 694d77aa9e38260f",
    "etcdctl-ts lease keep-alive --once 694d77aa9e38260f",
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("lease keep-alive command needs lease ID as argument");
    const id = leaseIdArg(ctx.args[0] as string);
    const s = ctx.session;
    formatOf(s);
    const once = ctx.flag<boolean>("once");
    const abort = new AbortController();
    const requests = new AsyncQueue<MessageInitShape<typeof LeaseKeepAliveRequestSchema>>();
    requests.push({ ID: id });
    try {
      const target = await s.streamTarget(abort.signal);
      const stream = target.endpoint.client(Lease).leaseKeepAlive(requests, target.options);
      for await (const r of stream) {
        if (r.TTL <= 0n) {
          if (once) throw new ExitError(ExitCode.badConnection, "etcdserver: requested lease not found");
          break;
        }
        printKeepAlive(s, r);
        if (once) return;
        signalReady(s.io.env);
        // clientv3 renews a third of the way through the TTL.
        const waitMs = Math.max(500, (Number(r.TTL) * 1000) / 3);
        setTimeout(() => requests.push({ ID: id }), waitMs).unref();
      }
    } catch (err) {
      if (err instanceof ExitError) throw err;
      throw new ExitError(ExitCode.badConnection, etcdctlErrorText(toRpcFailure(err)));
    } finally {
      requests.close();
      abort.abort();
    }
    if (formatOf(s) === "simple") line(s, `lease ${hex16(id)} expired or revoked.`);
  },
};

/** lease is the `lease` command group. */
export const lease: CommandSpec = {
  name: "lease",
  use: "lease <subcommand>",
  short: "Lease related commands",
  examples: ["etcdctl-ts lease grant 60", "etcdctl-ts lease list", "etcdctl-ts lease keep-alive <lease id>"],
  subcommands: [grant, keepAlive, list, revoke, timetolive],
};
