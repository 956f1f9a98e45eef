/** `member add|remove|update|list|promote`. */
import {
  Cluster,
  type Member,
  MemberAddResponseSchema,
  type MemberListResponse,
  MemberListResponseSchema,
  MemberPromoteResponseSchema,
  MemberRemoveResponseSchema,
  MemberUpdateResponseSchema,
  type ResponseHeader,
} from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec } from "../command.js";
import { badArgs } from "../errors.js";
import { fieldsHeader } from "../kv-output.js";
import { formatOf, goQuote, hex, line, printJson, renderTable, tableUnsupported } from "../output.js";
import { failWith, type Session } from "../session.js";

/** parseMemberId parses a member id in hex (strconv.ParseUint(s, 16, 64)). */
export function parseMemberId(text: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(text) || BigInt(`0x${text}`) >= 2n ** 64n) {
    throw badArgs(
      `bad member ID arg (strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax), expecting ID in Hex`,
    );
  }
  return BigInt(`0x${text}`);
}

/** pad16 is Go's %16x. */
function pad16(id: bigint): string {
  return hex(id).padStart(16, " ");
}

function peerUrlsOf(text: string): string[] {
  if (text === "") throw badArgs("member peer urls not provided");
  return text.split(",");
}

function memberRows(r: MemberListResponse): string[][] {
  return r.members.map((m) => [
    hex(m.ID),
    m.name === "" ? "unstarted" : "started",
    m.name,
    m.peerURLs.join(","),
    m.clientURLs.join(","),
    String(m.isLearner),
  ]);
}

function printChange(
  s: Session,
  verb: string,
  id: bigint,
  header: ResponseHeader | undefined,
  schema: Parameters<typeof printJson>[1],
  r: object,
): void {
  switch (formatOf(s)) {
    case "json":
      printJson(s, schema, r);
      return;
    case "table":
      throw tableUnsupported();
    default:
      line(s, `Member ${pad16(id)} ${verb} cluster ${pad16(header?.clusterId ?? 0n)}`);
  }
}

const add: CommandSpec = {
  name: "add",
  use: "add <memberName> [options]",
  short: "Adds a member into the cluster",
  flags: [
    {
      name: "learner",
      kind: "bool",
      defaultValue: false,
      usage: "indicates if the new member is raft learner",
    },
    {
      name: "peer-urls",
      kind: "string",
      defaultValue: "",
      usage: "comma separated peer URLs for the new member.",
    },
  ],
  examples: [
    "etcdctl-ts member add infra3 --peer-urls=http://10.0.0.3:2380",
    "etcdctl-ts member add --learner infra4 --peer-urls=http://10.0.0.4:2380",
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("member name not provided");
    const name = ctx.args[0] as string;
    const peerURLs = peerUrlsOf(ctx.flag<string>("peer-urls"));
    const s = ctx.session;
    formatOf(s);
    const r = await s
      .unary((ep, call) =>
        ep.client(Cluster).memberAdd({ peerURLs, isLearner: ctx.flag<boolean>("learner") }, call),
      )
      .catch((err: unknown) => failWith(err));
    const id = r.member?.ID ?? 0n;
    printChange(s, "added to", id, r.header, MemberAddResponseSchema, r);
    if (formatOf(s) !== "simple") return;
    const conf: string[] = [];
    for (const m of r.members as Member[]) {
      for (const u of m.peerURLs) conf.push(`${m.ID === id ? name : m.name}=${u}`);
    }
    s.out(
      `\nETCD_NAME=${goQuote(name)}\nETCD_INITIAL_CLUSTER=${goQuote(conf.join(","))}\nETCD_INITIAL_ADVERTISE_PEER_URLS=${goQuote(peerURLs.join(","))}\nETCD_INITIAL_CLUSTER_STATE="existing"\n`,
    );
  },
};

const remove: CommandSpec = {
  name: "remove",
  use: "remove <memberID>",
  short: "Removes a member from the cluster",
  examples: ["etcdctl-ts member remove 8e9e05c52164694d"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("member ID is not provided");
    const id = parseMemberId(ctx.args[0] as string);
    const s = ctx.session;
    formatOf(s);
    const r = await s
      .unary((ep, call) => ep.client(Cluster).memberRemove({ ID: id }, call))
      .catch((err: unknown) => failWith(err));
    printChange(s, "removed from", id, r.header, MemberRemoveResponseSchema, r);
  },
};

const update: CommandSpec = {
  name: "update",
  use: "update <memberID> [options]",
  short: "Updates a member in the cluster",
  flags: [
    {
      name: "peer-urls",
      kind: "string",
      defaultValue: "",
      usage: "comma separated peer URLs for the updated member.",
    },
  ],
  examples: ["etcdctl-ts member update 8e9e05c52164694d --peer-urls=http://10.0.0.5:2380"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("member ID is not provided");
    const id = parseMemberId(ctx.args[0] as string);
    const peerURLs = peerUrlsOf(ctx.flag<string>("peer-urls"));
    const s = ctx.session;
    formatOf(s);
    const r = await s
      .unary((ep, call) => ep.client(Cluster).memberUpdate({ ID: id, peerURLs }, call))
      .catch((err: unknown) => failWith(err));
    printChange(s, "updated in", id, r.header, MemberUpdateResponseSchema, r);
  },
};

const promote: CommandSpec = {
  name: "promote",
  use: "promote <memberID>",
  short: "Promotes a non-voting member in the cluster",
  long: "Promotes a non-voting learner member to a voting one in the cluster.",
  examples: ["etcdctl-ts member promote 8e9e05c52164694d"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("member ID is not provided");
    const id = parseMemberId(ctx.args[0] as string);
    const s = ctx.session;
    formatOf(s);
    const r = await s
      .unary((ep, call) => ep.client(Cluster).memberPromote({ ID: id }, call))
      .catch((err: unknown) => failWith(err));
    printChange(s, "promoted in", id, r.header, MemberPromoteResponseSchema, r);
  },
};

const list: CommandSpec = {
  name: "list",
  use: "list",
  short: "Lists all members in the cluster",
  long: `When --write-out is set to simple, this command prints out comma-separated member lists for each endpoint.
The items in the lists are ID, Status, Name, Peer Addrs, Client Addrs, Is Learner.`,
  examples: ["etcdctl-ts member list -w table"],
  async run(ctx) {
    const s = ctx.session;
    const format = formatOf(s);
    const r = await s
      .unary((ep, call) => ep.client(Cluster).memberList({}, call), { safe: true })
      .catch((err: unknown) => failWith(err));
    switch (format) {
      case "json":
        printJson(s, MemberListResponseSchema, r);
        return;
      case "table":
        return s.out(
          renderTable(["ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"], memberRows(r)),
        );
      case "fields":
        fieldsHeader(s, r.header);
        for (const m of r.members) {
          s.out(`"ID" : ${m.ID}\n"Name" : ${goQuote(m.name)}\n`);
          for (const u of m.peerURLs) s.out(`"PeerURL" : ${goQuote(u)}\n`);
          for (const u of m.clientURLs) s.out(`"ClientURL" : ${goQuote(u)}\n`);
          s.out(`"IsLearner" : ${m.isLearner}\n\n`);
        }
        return;
      default:
        for (const row of memberRows(r)) line(s, row.join(", "));
    }
  },
};

/** member is the `member` command group. */
export const member: CommandSpec = {
  name: "member",
  use: "member <subcommand>",
  short: "Membership related commands",
  examples: [
    "etcdctl-ts member list -w table",
    "etcdctl-ts member add --learner n4 --peer-urls=http://10.0.0.4:2380",
  ],
  subcommands: [add, list, promote, remove, update],
};
