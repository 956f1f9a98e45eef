/** `alarm list|disarm`, `defrag`, `move-leader` and `version`. */
import {
  type AlarmMember,
  AlarmRequest_AlarmAction,
  AlarmResponseSchema,
  AlarmType,
  Maintenance,
} from "@etcd-ts/proto/etcdserverpb";
import { commandEndpoints } from "../cluster-endpoints.js";
import { API_VERSION, type CommandSpec, ETCDCTL_VERSION } from "../command.js";
import { badArgs, ExitCode, ExitError } from "../errors.js";
import { formatOf, hex, line, printJson, tableUnsupported } from "../output.js";
import { failWith, type Session } from "../session.js";

function alarmName(a: AlarmType): string {
  return AlarmType[a] ?? String(a);
}

function printAlarms(s: Session, alarms: AlarmMember[], response: object): void {
  switch (formatOf(s)) {
    case "json":
      printJson(s, AlarmResponseSchema, response);
      return;
    case "table":
      throw tableUnsupported();
    default:
      for (const a of alarms) line(s, `memberID:${a.memberID} alarm:${alarmName(a.alarm)} `);
  }
}

const alarmList: CommandSpec = {
  name: "list",
  use: "list",
  short: "Lists all alarms",
  examples: ["etcdctl-ts alarm list"],
  async run(ctx) {
    const s = ctx.session;
    formatOf(s);
    const r = await s
      .unary((ep, call) => ep.client(Maintenance).alarm({ action: AlarmRequest_AlarmAction.GET }, call), {
        safe: true,
      })
      .catch((err: unknown) => failWith(err));
    printAlarms(s, r.alarms, r);
  },
};

const alarmDisarm: CommandSpec = {
  name: "disarm",
  use: "disarm",
  short: "Disarms all alarms",
  examples: ["etcdctl-ts alarm disarm"],
  async run(ctx) {
    const s = ctx.session;
    formatOf(s);
    const all = await s
      .unary((ep, call) => ep.client(Maintenance).alarm({ action: AlarmRequest_AlarmAction.GET }, call), {
        safe: true,
      })
      .catch((err: unknown) => failWith(err));
    const disarmed: AlarmMember[] = [];
    let last: object = { alarms: [] };
    for (const a of all.alarms) {
      const r = await s
        .unary((ep, call) =>
          ep
            .client(Maintenance)
            .alarm(
              { action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: a.memberID, alarm: a.alarm },
              call,
            ),
        )
        .catch((err: unknown) => failWith(err));
      disarmed.push(...r.alarms);
      last = { ...r, alarms: disarmed };
    }
    printAlarms(s, disarmed, all.alarms.length === 0 ? all : last);
  },
};

/** alarm is the `alarm` command group. */
export const alarm: CommandSpec = {
  name: "alarm",
  use: "alarm <subcommand>",
  short: "Alarm related commands",
  examples: ["etcdctl-ts alarm list", "etcdctl-ts alarm disarm"],
  subcommands: [alarmDisarm, alarmList],
};

/** defrag is the `defrag` command. */
export const defrag: CommandSpec = {
  name: "defrag",
  use: "defrag",
  short: "Defragments the storage of the etcd members with given endpoints",
  flags: [
    {
      name: "cluster",
      kind: "bool",
      defaultValue: false,
      usage: "use all endpoints from the cluster member list",
    },
    {
      name: "data-dir",
      kind: "string",
      defaultValue: "",
      usage: "Optional. If present, defragments a data directory not in use by etcd.",
    },
  ],
  examples: ["etcdctl-ts defrag --cluster"],
  async run(ctx) {
    const s = ctx.session;
    if (ctx.flag<string>("data-dir") !== "") {
      throw new ExitError(
        ExitCode.badFeature,
        "defragmenting a data directory offline is not supported by etcdctl-ts (use the endpoint of a running member)",
      );
    }
    const eps = await commandEndpoints(s, ctx.flag("cluster"));
    let failed = false;
    for (const ep of eps) {
      try {
        await s.unary((e, call) => e.client(Maintenance).defragment({}, call), { endpoint: ep });
        line(s, `Finished defragmenting etcd member[${ep}]`);
      } catch (err) {
        failed = true;
        s.err(`Failed to defragment etcd member[${ep}] (${(err as Error).message})\n`);
      }
    }
    if (failed) throw new ExitError(ExitCode.error, "");
  },
};

/** moveLeader is the `move-leader` command. */
export const moveLeader: CommandSpec = {
  name: "move-leader",
  use: "move-leader <transferee-member-id>",
  short: "Transfers leadership to another etcd cluster member.",
  examples: ["etcdctl-ts move-leader 8e9e05c52164694d --endpoints=10.0.0.1:2379,10.0.0.2:2379"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("move-leader command needs 1 argument");
    const text = ctx.args[0] as string;
    if (!/^[0-9a-fA-F]+$/.test(text))
      throw badArgs(`strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
    const target = BigInt(`0x${text}`);
    const s = ctx.session;
    let leaderEp: string | undefined;
    let leaderId = 0n;
    for (const ep of s.globals.endpoints) {
      const r = await s
        .unary((e, call) => e.client(Maintenance).status({}, call), { endpoint: ep, safe: true })
        .catch((err: unknown) => failWith(err));
      if (r.header?.memberId === r.leader) {
        leaderEp = ep;
        leaderId = r.leader;
        break;
      }
    }
    if (leaderEp === undefined)
      throw badArgs(`no leader endpoint given at [${s.globals.endpoints.join(" ")}]`);
    const ep = leaderEp;
    await s
      .unary((e, call) => e.client(Maintenance).moveLeader({ targetID: target }, call), { endpoint: ep })
      .catch((err: unknown) => failWith(err));
    if (formatOf(s) === "simple") line(s, `Leadership transferred from ${hex(leaderId)} to ${hex(target)}`);
  },
};

/** version is the `version` command. */
export const version: CommandSpec = {
  name: "version",
  use: "version",
  short: "Prints the version of etcdctl",
  examples: ["etcdctl-ts version"],
  async run(ctx) {
    line(ctx.session, `etcdctl version: ${ETCDCTL_VERSION}\nAPI version: ${API_VERSION}`);
  },
};
