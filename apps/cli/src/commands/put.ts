/** `put`: writes a key; the value may come from stdin. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { KV, type PutRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec, RunContext } from "../command.js";
import { badArgs } from "../errors.js";
import type { FlagSpec } from "../flag-set.js";
import { utf8 } from "../key-range.js";
import { printPut } from "../kv-output.js";
import { failWith } from "../session.js";

/** PUT_FLAGS are put's flags (also accepted by `put` lines inside txn). */
export const PUT_FLAGS: FlagSpec[] = [
  {
    name: "ignore-lease",
    kind: "bool",
    defaultValue: false,
    usage: "updates the key using its current lease",
  },
  {
    name: "ignore-value",
    kind: "bool",
    defaultValue: false,
    usage: "updates the key using its current value",
  },
  {
    name: "lease",
    kind: "string",
    defaultValue: "0",
    usage: "lease ID (in hexadecimal) to attach to the key",
  },
  {
    name: "prev-kv",
    kind: "bool",
    defaultValue: false,
    usage: "return the previous key-value pair before modification",
  },
];

/** parseHexId parses a lease id as etcdctl does (strconv.ParseInt(s, 16, 64)); undefined when malformed. */
export function parseHexId(text: string): bigint | undefined {
  if (!/^[+-]?[0-9a-fA-F]+$/.test(text)) return undefined;
  const negative = text.startsWith("-");
  const value = BigInt(`0x${text.replace(/^[+-]/, "")}`);
  if (value > (negative ? 2n ** 63n : 2n ** 63n - 1n)) return undefined;
  return negative ? -value : value;
}

/** putRequestOf builds the PutRequest of put's arguments; `stdinValue` is read only when needed. */
export async function putRequestOf(
  ctx: Pick<RunContext, "args" | "flag">,
  stdinValue: () => Promise<Uint8Array>,
): Promise<MessageInitShape<typeof PutRequestSchema>> {
  const usage = "put command needs 1 argument and input from stdin or 2 arguments";
  if (ctx.args.length === 0) throw badArgs(usage);
  const ignoreValue = ctx.flag<boolean>("ignore-value");
  if (ignoreValue && ctx.args.length > 1)
    throw badArgs("put command needs only 1 argument when 'ignore-value' is set");
  let value: Uint8Array = new Uint8Array();
  if (!ignoreValue) value = ctx.args.length > 1 ? utf8(ctx.args[1] as string) : await stdinValue();
  const leaseText = ctx.flag<string>("lease");
  const lease = parseHexId(leaseText);
  if (lease === undefined) {
    throw badArgs(
      `bad lease ID (strconv.ParseInt: parsing ${JSON.stringify(leaseText)}: invalid syntax), expecting ID in Hex`,
    );
  }
  return {
    key: utf8(ctx.args[0] as string),
    value,
    lease,
    prevKv: ctx.flag<boolean>("prev-kv"),
    ignoreValue,
    ignoreLease: ctx.flag<boolean>("ignore-lease"),
  };
}

/** put is the `put` command. */
export const put: CommandSpec = {
  name: "put",
  use: "put [options] <key> <value> (<value> can also be given from stdin)",
  short: "Puts the given key into the store",
  long: `Puts the given key into the store.

When <value> begins with '-', <value> is interpreted as a flag.
Insert '--' for workaround:

$ put <key> -- <value>
$ put -- <key> <value>

If <value> isn't given as a command line argument and '--ignore-value' is not specified,
this command tries to read the value from standard input.

If <lease> isn't given as a command line argument and '--ignore-lease' is not specified,
this command tries to read the value from standard input.

For example,
$ cat file | put <key>
will store the content of the file to <key>.`,
  flags: PUT_FLAGS,
  examples: [
    "etcdctl-ts put greeting hello",
    "etcdctl-ts put --lease=694d77aa9e38260f session/1 alive",
    "cat config.json | etcdctl-ts put /app/config",
  ],
  async run(ctx) {
    const request = await putRequestOf(ctx, async () => new Uint8Array(await ctx.session.io.readStdin()));
    const response = await ctx.session
      .unary((ep, call) => ep.client(KV).put(request, call))
      .catch((err: unknown) => failWith(err));
    printPut(ctx.session, response);
  },
};
