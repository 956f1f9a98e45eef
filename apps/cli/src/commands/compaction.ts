/** `compaction`: discards the key history before a revision. */
import { KV } from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec } from "../command.js";
import { badArgs, ExitCode, ExitError } from "../errors.js";
import { line } from "../output.js";
import { failWith } from "../session.js";

/** parseGoInt parses like strconv.ParseInt(s, 10, 64), with Go's error text on failure. */
export function parseGoInt(text: string): bigint {
  if (!/^[+-]?\d+$/.test(text))
    throw badArgs(`strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
  const v = BigInt(text);
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) {
    throw badArgs(`strconv.ParseInt: parsing ${JSON.stringify(text)}: value out of range`);
  }
  return v;
}

/** compaction is the `compaction` command. */
export const compaction: CommandSpec = {
  name: "compaction",
  use: "compaction [options] <revision>",
  short: "Compacts the event history in etcd",
  flags: [
    {
      name: "physical",
      kind: "bool",
      defaultValue: false,
      usage: "'true' to wait for compaction to physically remove all old revisions",
    },
  ],
  examples: ["etcdctl-ts compaction 1234", "etcdctl-ts compaction --physical 1234"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("compaction command needs 1 argument");
    let revision: bigint;
    try {
      revision = parseGoInt(ctx.args[0] as string);
    } catch (err) {
      // etcdctl 3.4 exits with ExitError (1) here, not ExitBadArgs.
      throw new ExitError(ExitCode.error, (err as Error).message);
    }
    await ctx.session
      .unary((ep, call) => ep.client(KV).compact({ revision, physical: ctx.flag<boolean>("physical") }, call))
      .catch((err: unknown) => failWith(err));
    line(ctx.session, `compacted revision ${revision}`);
  },
};
