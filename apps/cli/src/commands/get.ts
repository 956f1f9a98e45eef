/** `get`: reads a key or a range of keys. */

import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RangeRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import {
  KV,
  type RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
} from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec, RunContext } from "../command.js";
import { ExitCode, ExitError } from "../errors.js";
import type { FlagSpec } from "../flag-set.js";
import { keyRange } from "../key-range.js";
import { printGet } from "../kv-output.js";
import { failWith } from "../session.js";

/** GET_FLAGS are get's flags (also accepted by `get` lines inside txn). */
export const GET_FLAGS: FlagSpec[] = [
  { name: "consistency", kind: "string", defaultValue: "l", usage: "Linearizable(l) or Serializable(s)" },
  {
    name: "from-key",
    kind: "bool",
    defaultValue: false,
    usage: "Get keys that are greater than or equal to the given key using byte compare",
  },
  { name: "keys-only", kind: "bool", defaultValue: false, usage: "Get only the keys" },
  { name: "limit", kind: "int", defaultValue: 0n, usage: "Maximum number of results" },
  {
    name: "order",
    kind: "string",
    defaultValue: "",
    usage: "Order of results; ASCEND or DESCEND (ASCEND by default)",
  },
  { name: "prefix", kind: "bool", defaultValue: false, usage: "Get keys with matching prefix" },
  {
    name: "print-value-only",
    kind: "bool",
    defaultValue: false,
    usage: 'Only write values when using the "simple" output format',
  },
  { name: "rev", kind: "int", defaultValue: 0n, usage: "Specify the kv revision" },
  {
    name: "sort-by",
    kind: "string",
    defaultValue: "",
    usage: "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION",
  },
];

const ORDERS: Record<string, RangeRequest_SortOrder> = {
  ASCEND: RangeRequest_SortOrder.ASCEND,
  DESCEND: RangeRequest_SortOrder.DESCEND,
  "": RangeRequest_SortOrder.NONE,
};
const TARGETS: Record<string, RangeRequest_SortTarget> = {
  CREATE: RangeRequest_SortTarget.CREATE,
  KEY: RangeRequest_SortTarget.KEY,
  MODIFY: RangeRequest_SortTarget.MOD,
  VALUE: RangeRequest_SortTarget.VALUE,
  VERSION: RangeRequest_SortTarget.VERSION,
  "": RangeRequest_SortTarget.KEY,
};

/** rangeRequestOf builds the RangeRequest of get's arguments and flags. */
export function rangeRequestOf(
  ctx: Pick<RunContext, "args" | "flag">,
): MessageInitShape<typeof RangeRequestSchema> {
  const consistency = ctx.flag<string>("consistency");
  if (consistency !== "l" && consistency !== "s") {
    throw new ExitError(ExitCode.badFeature, `unknown consistency flag ${JSON.stringify(consistency)}`);
  }
  const order = ORDERS[ctx.flag<string>("order")];
  if (order === undefined)
    throw new ExitError(ExitCode.badFeature, `bad sort order ${ctx.flag<string>("order")}`);
  const target = TARGETS[ctx.flag<string>("sort-by")];
  if (target === undefined)
    throw new ExitError(ExitCode.badFeature, `bad sort target ${ctx.flag<string>("sort-by")}`);
  // get ignores arguments after the range end (del refuses them).
  const range = keyRange(ctx.args.slice(0, 2), ctx.flag("prefix"), ctx.flag("from-key"), "get");
  // clientv3 sends "sort by key, ascending" as no sort at all.
  const sortOrder =
    target === RangeRequest_SortTarget.KEY && order === RangeRequest_SortOrder.ASCEND
      ? RangeRequest_SortOrder.NONE
      : order;
  return {
    key: range.key,
    rangeEnd: range.rangeEnd,
    limit: ctx.flag<bigint>("limit"),
    revision: ctx.flag<bigint>("rev"),
    sortOrder,
    sortTarget: target,
    serializable: consistency === "s",
    keysOnly: ctx.flag<boolean>("keys-only"),
  } satisfies Partial<RangeRequest>;
}

/** get is the `get` command. */
export const get: CommandSpec = {
  name: "get",
  use: "get [options] <key> [range_end]",
  short: "Gets the key or a range of keys",
  flags: GET_FLAGS,
  examples: [
    "etcdctl-ts get foo                      # one key",
    "etcdctl-ts get --prefix /app/ -w json   # a prefix, as JSON",
    "etcdctl-ts get --from-key '' --keys-only  # every key",
  ],
  async run(ctx) {
    const request = rangeRequestOf(ctx);
    const response = await ctx.session
      .unary((ep, call) => ep.client(KV).range(request, call), { safe: true })
      .catch((err: unknown) => failWith(err));
    printGet(ctx.session, response, ctx.flag("print-value-only"));
  },
};
