/** `del`: deletes a key or a range of keys. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type DeleteRangeRequestSchema, KV } from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec, RunContext } from "../command.js";
import type { FlagSpec } from "../flag-set.js";
import { keyRange } from "../key-range.js";
import { printDel } from "../kv-output.js";
import { failWith } from "../session.js";

/** DEL_FLAGS are del's flags (also accepted by `del` lines inside txn). */
export const DEL_FLAGS: FlagSpec[] = [
  {
    name: "from-key",
    kind: "bool",
    defaultValue: false,
    usage: "delete keys that are greater than or equal to the given key using byte compare",
  },
  { name: "prefix", kind: "bool", defaultValue: false, usage: "delete keys with matching prefix" },
  { name: "prev-kv", kind: "bool", defaultValue: false, usage: "return deleted key-value pairs" },
];

/** deleteRequestOf builds the DeleteRangeRequest of del's arguments. */
export function deleteRequestOf(
  ctx: Pick<RunContext, "args" | "flag">,
): MessageInitShape<typeof DeleteRangeRequestSchema> {
  const range = keyRange(ctx.args, ctx.flag("prefix"), ctx.flag("from-key"), "del");
  return { key: range.key, rangeEnd: range.rangeEnd, prevKv: ctx.flag<boolean>("prev-kv") };
}

/** del is the `del` command. */
export const del: CommandSpec = {
  name: "del",
  use: "del [options] <key> [range_end]",
  short: "Removes the specified key or range of keys [key, range_end)",
  flags: DEL_FLAGS,
  examples: ["etcdctl-ts del foo", "etcdctl-ts del --prefix --prev-kv /jobs/"],
  async run(ctx) {
    const request = deleteRequestOf(ctx);
    const response = await ctx.session
      .unary((ep, call) => ep.client(KV).deleteRange(request, call))
      .catch((err: unknown) => failWith(err));
    printDel(ctx.session, response);
  },
};
