/** `endpoint health|status|hashkv`: per-member checks, on --endpoints or (with --cluster) every member. */

import type { HashKVResponse, StatusResponse } from "@etcd-ts/proto/etcdserverpb";
import {
  AlarmType,
  HashKVResponseSchema,
  KV,
  Maintenance,
  StatusResponseSchema,
} from "@etcd-ts/proto/etcdserverpb";
import { commandEndpoints } from "../cluster-endpoints.js";
import type { CommandSpec } from "../command.js";
import { ExitCode, ExitError } from "../errors.js";
import { formatGoDurationNs } from "../go-duration.js";
import { goJson, goJsonString } from "../go-json.js";
import { utf8 } from "../key-range.js";
import { fieldsHeader } from "../kv-output.js";
import { formatOf, hex, humanBytes, line, renderTable } from "../output.js";
import { CallFailed, type Session } from "../session.js";

interface Health {
  ep: string;
  health: boolean;
  took: string;
  error: string;
}

async function checkHealth(s: Session, ep: string): Promise<Health> {
  const start = process.hrtime.bigint();
  let error = "";
  try {
    await s.unary((e, call) => e.client(KV).range({ key: utf8("health") }, call), {
      endpoint: ep,
      ownClient: true,
      safe: true,
    });
  } catch (err) {
    const text = err instanceof CallFailed ? err.message : String(err);
    if (text !== "etcdserver: permission denied") error = text;
  }
  const took = formatGoDurationNs(Number(process.hrtime.bigint() - start));
  if (error !== "") return { ep, health: false, took, error };
  try {
    const alarms = await s.unary((e, call) => e.client(Maintenance).alarm({}, call), {
      endpoint: ep,
      safe: true,
    });
    if (alarms.alarms.length > 0) {
      const names = alarms.alarms.map((a) =>
        a.alarm === AlarmType.NOSPACE ? "NOSPACE " : a.alarm === AlarmType.CORRUPT ? "CORRUPT " : "UNKNOWN ",
      );
      return { ep, health: false, took, error: `Active Alarm(s): ${names.join("")}` };
    }
  } catch {
    return { ep, health: false, took, error: "Unable to fetch the alarm list" };
  }
  return { ep, health: true, took, error: "" };
}

const health: CommandSpec = {
  name: "health",
  use: "health",
  short: "Checks the healthiness of endpoints specified in `--endpoints` flag",
  examples: ["etcdctl-ts endpoint health --cluster -w table"],
  async run(ctx) {
    const s = ctx.session;
    const format = formatOf(s);
    const eps = await commandEndpoints(s, ctx.flag("cluster"));
    const results = await Promise.all(eps.map((ep) => checkHealth(s, ep)));
    if (format === "json") {
      const items = results.map(
        (h) =>
          `{"endpoint":${goJsonString(h.ep)},"health":${h.health},"took":${goJsonString(h.took)}${h.error === "" ? "" : `,"error":${goJsonString(h.error)}`}}`,
      );
      line(s, `[${items.join(",")}]`);
    } else if (format === "table") {
      s.out(
        renderTable(
          ["ENDPOINT", "HEALTH", "TOOK", "ERROR"],
          results.map((h) => [h.ep, String(h.health), h.took, h.error]),
        ),
      );
    } else if (format === "fields") {
      for (const h of results) {
        s.out(
          `"Endpoint" : ${goJsonString(h.ep)}\n"Health" : ${h.health}\n"Took" : ${goJsonString(h.took)}\n"Error" : ${goJsonString(h.error)}\n\n`,
        );
      }
    } else {
      for (const h of results) {
        if (h.error === "") s.err(`${h.ep} is healthy: successfully committed proposal: took = ${h.took}\n`);
        else s.err(`${h.ep} is unhealthy: failed to commit proposal: ${h.error}\n`);
      }
    }
    if (results.some((h) => !h.health)) throw new ExitError(ExitCode.error, "unhealthy cluster");
  },
};

const status: CommandSpec = {
  name: "status",
  use: "status",
  short: "Prints out the status of endpoints specified in `--endpoints` flag",
  long: `When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.
The items in the lists are endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors.`,
  examples: ["etcdctl-ts endpoint status --cluster -w table"],
  async run(ctx) {
    const s = ctx.session;
    const format = formatOf(s);
    const eps = await commandEndpoints(s, ctx.flag("cluster"));
    const list: Array<{ ep: string; r: StatusResponse }> = [];
    let failed = false;
    for (const ep of eps) {
      try {
        list.push({
          ep,
          r: await s.unary((e, call) => e.client(Maintenance).status({}, call), { endpoint: ep, safe: true }),
        });
      } catch (err) {
        failed = true;
        s.err(`Failed to get the status of endpoint ${ep} (${(err as Error).message})\n`);
      }
    }
    const cells = ({ ep, r }: { ep: string; r: StatusResponse }) => [
      ep,
      hex(r.header?.memberId ?? 0n),
      r.version,
      humanBytes(Number(r.dbSize)),
      String(r.leader === r.header?.memberId),
      String(r.isLearner),
      String(r.raftTerm),
      String(r.raftIndex),
      String(r.raftAppliedIndex),
      r.errors.join(", "),
    ];
    if (format === "json") {
      line(
        s,
        `[${list.map(({ ep, r }) => `{"Endpoint":${goJsonString(ep)},"Status":${goJson(StatusResponseSchema, r as never)}}`).join(",")}]`,
      );
    } else if (format === "table") {
      const header = [
        "ENDPOINT",
        "ID",
        "VERSION",
        "DB SIZE",
        "IS LEADER",
        "IS LEARNER",
        "RAFT TERM",
        "RAFT INDEX",
        "RAFT APPLIED INDEX",
        "ERRORS",
      ];
      s.out(renderTable(header, list.map(cells)));
    } else if (format === "fields") {
      for (const { ep, r } of list) {
        fieldsHeader(s, r.header);
        s.out(
          `"Version" : ${goJsonString(r.version)}\n"DBSize" : ${r.dbSize}\n"Leader" : ${r.leader}\n"IsLearner" : ${r.isLearner}\n"RaftIndex" : ${r.raftIndex}\n"RaftTerm" : ${r.raftTerm}\n"RaftAppliedIndex" : ${r.raftAppliedIndex}\n"Errors" : [${r.errors.join(" ")}]\n"Endpoint" : ${goJsonString(ep)}\n\n`,
        );
      }
    } else {
      for (const item of list) line(s, cells(item).join(", "));
    }
    if (failed) throw new ExitError(ExitCode.error, "");
  },
};

const hashkv: CommandSpec = {
  name: "hashkv",
  use: "hashkv",
  short: "Prints the KV history hash for each endpoint in --endpoints",
  flags: [
    {
      name: "rev",
      kind: "int",
      defaultValue: 0n,
      usage: "maximum revision to hash (default: all revisions)",
    },
  ],
  examples: ["etcdctl-ts endpoint hashkv --cluster -w table"],
  async run(ctx) {
    const s = ctx.session;
    const format = formatOf(s);
    const eps = await commandEndpoints(s, ctx.flag("cluster"));
    const list: Array<{ ep: string; r: HashKVResponse }> = [];
    let failed = false;
    for (const ep of eps) {
      try {
        const revision = ctx.flag<bigint>("rev");
        list.push({
          ep,
          r: await s.unary((e, call) => e.client(Maintenance).hashKV({ revision }, call), {
            endpoint: ep,
            safe: true,
          }),
        });
      } catch (err) {
        failed = true;
        s.err(`Failed to get the hash of endpoint ${ep} (${(err as Error).message})\n`);
      }
    }
    if (format === "json") {
      line(
        s,
        `[${list.map(({ ep, r }) => `{"Endpoint":${goJsonString(ep)},"HashKV":${goJson(HashKVResponseSchema, r as never)}}`).join(",")}]`,
      );
    } else if (format === "table") {
      s.out(
        renderTable(
          ["ENDPOINT", "HASH"],
          list.map(({ ep, r }) => [ep, String(r.hash)]),
        ),
      );
    } else if (format === "fields") {
      for (const { ep, r } of list) {
        fieldsHeader(s, r.header);
        s.out(`"Endpoint" : ${goJsonString(ep)}\n"Hash" : ${r.hash}\n\n`);
      }
    } else {
      for (const { ep, r } of list) line(s, `${ep}, ${r.hash}`);
    }
    if (failed) throw new ExitError(ExitCode.error, "");
  },
};

/** endpoint is the `endpoint` command group. */
export const endpoint: CommandSpec = {
  name: "endpoint",
  use: "endpoint <subcommand>",
  short: "Endpoint related commands",
  examples: ["etcdctl-ts endpoint health --cluster", "etcdctl-ts endpoint status -w table"],
  persistentFlags: [
    {
      name: "cluster",
      kind: "bool",
      defaultValue: false,
      usage: "use all endpoints from the cluster member list",
    },
  ],
  subcommands: [hashkv, health, status],
};
