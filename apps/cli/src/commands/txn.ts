/**
 * `txn`: reads compares, success requests and failure requests from stdin (each block ends with an empty
 * line) and runs them as one transaction. `-i` prompts for each block.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type CompareSchema,
  KV,
  type RequestOpSchema,
} from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec } from "../command.js";
import { ExitCode, ExitError } from "../errors.js";
import { parseFlags } from "../flag-set.js";
import { utf8 } from "../key-range.js";
import { printTxn } from "../kv-output.js";
import { line } from "../output.js";
import { failWith } from "../session.js";
import { DEL_FLAGS, deleteRequestOf } from "./del.js";
import { GET_FLAGS, rangeRequestOf } from "./get.js";
import { PUT_FLAGS, putRequestOf } from "./put.js";

type CompareInit = MessageInitShape<typeof CompareSchema>;
type RequestOpInit = MessageInitShape<typeof RequestOpSchema>;

/** argify splits a request line into words: whitespace separates, "..." and '...' quote. */
export function argify(text: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) {
    if (m[1] !== undefined) words.push(JSON.parse(`"${m[1]}"`) as string);
    else if (m[2] !== undefined) words.push(m[2]);
    else words.push(m[3] as string);
  }
  return words;
}

const OPS: Record<string, Compare_CompareResult> = {
  "=": Compare_CompareResult.EQUAL,
  "==": Compare_CompareResult.EQUAL,
  "!=": Compare_CompareResult.NOT_EQUAL,
  ">": Compare_CompareResult.GREATER,
  "<": Compare_CompareResult.LESS,
};

/** parseCompare parses `target("key") op "value"`, e.g. `version("k") = "3"`. */
export function parseCompare(text: string): CompareInit {
  const paren = text.indexOf("(");
  if (paren < 0) throw new Error(`malformed comparison: ${text}`);
  const target = text.slice(0, paren);
  const m = /^"((?:[^"\\]|\\.)*)"\)\s+(\S+)\s+"((?:[^"\\]|\\.)*)"/.exec(text.slice(paren + 1));
  if (m === null) throw new Error(`malformed comparison: ${text}`);
  const key = utf8(JSON.parse(`"${m[1]}"`) as string);
  const result = OPS[m[2] as string];
  if (result === undefined) throw new Error(`malformed comparison: ${text}; invalid operation "${m[2]}"`);
  const raw = JSON.parse(`"${m[3]}"`) as string;
  const int = () => {
    if (!/^[+-]?\d+$/.test(raw)) throw new Error(`invalid integer ${raw}`);
    return BigInt(raw);
  };
  switch (target) {
    case "ver":
    case "version":
      return {
        key,
        result,
        target: Compare_CompareTarget.VERSION,
        targetUnion: { case: "version", value: int() },
      };
    case "c":
    case "create":
      return {
        key,
        result,
        target: Compare_CompareTarget.CREATE,
        targetUnion: { case: "createRevision", value: int() },
      };
    case "m":
    case "mod":
      return {
        key,
        result,
        target: Compare_CompareTarget.MOD,
        targetUnion: { case: "modRevision", value: int() },
      };
    case "val":
    case "value":
      return {
        key,
        result,
        target: Compare_CompareTarget.VALUE,
        targetUnion: { case: "value", value: utf8(raw) },
      };
    case "lease":
      return {
        key,
        result,
        target: Compare_CompareTarget.LEASE,
        targetUnion: { case: "lease", value: int() },
      };
    default:
      throw new Error(`malformed comparison: ${text} (unknown target ${target})`);
  }
}

/** parseRequest parses one `get`/`put`/`del` line of a txn into a request. */
export async function parseRequest(text: string): Promise<RequestOpInit> {
  const words = argify(text);
  const [verb, ...rest] = words;
  const fail = () => new Error(`invalid txn request: ${text}`);
  const flagsOf =
    verb === "get" ? GET_FLAGS : verb === "put" ? PUT_FLAGS : verb === "del" ? DEL_FLAGS : undefined;
  if (flagsOf === undefined) throw fail();
  const parsed = parseFlags(flagsOf, rest);
  const ctx = {
    args: parsed.args,
    flag: <T>(name: string) => parsed.values.get(name) as T,
  };
  if (verb === "get") return { request: { case: "requestRange", value: rangeRequestOf(ctx) } };
  if (verb === "del") return { request: { case: "requestDeleteRange", value: deleteRequestOf(ctx) } };
  return {
    request: {
      case: "requestPut",
      value: await putRequestOf(ctx, async () => {
        throw fail();
      }),
    },
  };
}

/** txn is the `txn` command. */
export const txn: CommandSpec = {
  name: "txn",
  use: "txn [options]",
  short: "Txn processes all the requests in one transaction",
  flags: [
    {
      name: "interactive",
      short: "i",
      kind: "bool",
      defaultValue: false,
      usage: "Input transaction in interactive mode",
    },
  ],
  examples: [
    `printf '%s\\n' 'value("cfg") = "v1"' '' 'put cfg v2' '' 'get cfg' '' | etcdctl-ts txn`,
    "etcdctl-ts txn -i    # prompts for compares, success and failure requests",
  ],
  async run(ctx) {
    const session = ctx.session;
    const interactive = ctx.flag<boolean>("interactive");
    const lines = session.io.stdinLines()[Symbol.asyncIterator]();
    const block = async (prompt: string): Promise<string[]> => {
      if (interactive) line(session, prompt);
      const out: string[] = [];
      for (;;) {
        const next = await lines.next();
        if (next.done === true) throw new ExitError(ExitCode.invalidInput, "EOF");
        const l = next.value.replace(/\r$/, "");
        if (l === "") return out;
        out.push(l);
      }
    };
    const invalid = (err: unknown) => new ExitError(ExitCode.invalidInput, (err as Error).message);
    let compares: CompareInit[];
    try {
      compares = (await block("compares:")).map(parseCompare);
    } catch (err) {
      throw err instanceof ExitError ? err : invalid(err);
    }
    const ops = async (prompt: string) => {
      const texts = await block(prompt);
      const out: RequestOpInit[] = [];
      for (const t of texts)
        out.push(await parseRequest(t).catch((err: unknown) => Promise.reject(invalid(err))));
      return out;
    };
    const success = await ops("success requests (get, put, del):");
    const failure = await ops("failure requests (get, put, del):");
    const response = await session
      .unary((ep, call) => ep.client(KV).txn({ compare: compares, success, failure }, call))
      .catch((err: unknown) => failWith(err));
    printTxn(session, response);
  },
};
