/**
 * The command tree and its dispatcher, with etcdctl's (cobra's) rules: the command path is found among the
 * words before the first argument that is not a subcommand; flags may stand anywhere; `-h/--help` prints the
 * command's help; a parse error prints the error, the usage and the error again, and exits 1.
 */
import { ExitCode, ExitError, UsageError } from "./errors.js";
import type { FlagSpec, FlagValue, ParsedFlags } from "./flag-set.js";
import { flagDefaultText, parseFlags } from "./flag-set.js";
import { applyEnv, GLOBAL_FLAGS, resolveGlobals } from "./global-options.js";
import { type Io, Session } from "./session.js";
import { tabAlign } from "./tab-writer.js";

/** ETCDCTL_VERSION is the etcdctl release whose behaviour etcdctl-ts follows. */
export const ETCDCTL_VERSION = "3.4.23";
/** API_VERSION is the etcd API version etcdctl-ts speaks. */
export const API_VERSION = "3.4";

/** RunContext is what a command's run function is given. */
export interface RunContext {
  session: Session;
  /** args are the positional arguments. */
  args: string[];
  /** argsLenAtDash is the number of positional arguments before `--` (-1: no `--`). */
  argsLenAtDash: number;
  flag<T extends FlagValue>(name: string): T;
  changed(name: string): boolean;
  /** usage is the command's usage text (for errors that show it). */
  usage: string;
}

/** CommandSpec declares one command. */
export interface CommandSpec {
  name: string;
  /** use is the usage line after "etcdctl", without " [flags]". */
  use: string;
  short: string;
  /** long is the DESCRIPTION section. */
  long?: string;
  /** examples are shown by --help (an etcdctl-ts addition; usage after an error leaves them out as etcdctl does). */
  examples?: string[];
  flags?: FlagSpec[];
  /** persistentFlags are inherited by the subcommands (e.g. endpoint --cluster). */
  persistentFlags?: FlagSpec[];
  subcommands?: CommandSpec[];
  /** hidden commands are left out of help listings. */
  hidden?: boolean;
  /** noFlagsInUse leaves " [flags]" out of the usage line. */
  noFlagsInUse?: boolean;
  run?: (ctx: RunContext) => Promise<void>;
}

const HELP_FLAG = (name: string): FlagSpec => ({
  name: "help",
  short: "h",
  kind: "bool",
  defaultValue: false,
  usage: `help for ${name}`,
});

/** ROOT_SHORT is the root command's description. */
export const ROOT_SHORT = "A simple command line client for etcd3.";

function flagLines(specs: readonly FlagSpec[]): string {
  return [...specs]
    .filter((s) => s.hidden !== true)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => `${flagDefaultText(s)}\t${s.usage}\n`)
    .join("");
}

function leaves(cmd: CommandSpec, prefix: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const sub of cmd.subcommands ?? []) {
    if (sub.hidden === true) continue;
    const path = prefix === "" ? sub.name : `${prefix} ${sub.name}`;
    if (sub.subcommands !== undefined && sub.subcommands.length > 0 && sub.name !== "completion") {
      out.push(...leaves(sub, path));
    } else if (sub.subcommands !== undefined && sub.name === "completion") {
      out.push(...leaves(sub, path));
    } else out.push([path, sub.short]);
  }
  return out;
}

/** helpText renders a command's help as etcdctl's template does; `withExamples` adds our EXAMPLES section. */
export function helpText(path: CommandSpec[], withExamples: boolean): string {
  const cmd = path[path.length - 1] as CommandSpec;
  const isRoot = path.length === 1;
  const names = path.slice(1).map((c) => c.name);
  const title = isRoot ? "etcdctl" : names.join(" ");
  const inherited = [...GLOBAL_FLAGS, ...path.slice(0, -1).flatMap((c) => c.persistentFlags ?? [])];
  const local = [
    ...(cmd.flags ?? []),
    ...(cmd.persistentFlags ?? []),
    HELP_FLAG(isRoot ? "etcdctl" : cmd.name),
  ];
  let s = `NAME:\n\t${title} - ${cmd.short}\n\nUSAGE:\n\t`;
  s += isRoot ? "etcdctl" : `etcdctl ${path.length > 2 ? `${names.slice(0, -1).join(" ")} ` : ""}${cmd.use}`;
  s += cmd.noFlagsInUse === true ? "\n\n" : " [flags]\n\n";
  if (isRoot) s += `VERSION:\n\t${ETCDCTL_VERSION}\n\n`;
  const subs = cmd.subcommands ?? [];
  if (subs.length > 0) {
    s += `API VERSION:\n\t${API_VERSION}\n\n\nCOMMANDS:\n`;
    const rows = isRoot
      ? leaves(cmd, "")
      : subs.filter((c) => c.hidden !== true).map((c) => [c.name, c.short] as [string, string]);
    rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    s += rows.map(([n, d]) => `\t${n}\t${d}\n`).join("");
    s += "\n";
  }
  if (cmd.long !== undefined) {
    s += `DESCRIPTION:\n${cmd.long
      .split("\n")
      .map((l) => `\t${l}`)
      .join("\n")}\n\n`;
  }
  if (withExamples && (cmd.examples ?? []).length > 0) {
    s += `EXAMPLES:\n${(cmd.examples ?? []).map((l) => `\t${l}`).join("\n")}\n\n`;
  }
  s += `OPTIONS:\n${flagLines(isRoot ? [...GLOBAL_FLAGS, HELP_FLAG("etcdctl")] : local)}\n`;
  if (!isRoot) s += `GLOBAL OPTIONS:\n${flagLines(inherited)}\n`;
  return tabAlign(s);
}

/** knownValueFlags lists every flag that takes a value, to skip values while looking for the command path. */
function valueFlags(root: CommandSpec): Set<string> {
  const out = new Set<string>();
  const visit = (c: CommandSpec) => {
    for (const f of [...(c.flags ?? []), ...(c.persistentFlags ?? [])]) {
      if (f.kind !== "bool") {
        out.add(`--${f.name}`);
        if (f.short !== undefined) out.add(`-${f.short}`);
      }
    }
    for (const s of c.subcommands ?? []) visit(s);
  };
  for (const f of GLOBAL_FLAGS) {
    if (f.kind !== "bool") {
      out.add(`--${f.name}`);
      if (f.short !== undefined) out.add(`-${f.short}`);
    }
  }
  visit(root);
  return out;
}

/** findCommand walks argv to the command it names and returns the path and the remaining argv. */
export function findCommand(
  root: CommandSpec,
  argv: readonly string[],
): { path: CommandSpec[]; rest: string[]; unknown?: string } {
  const path = [root];
  const rest: string[] = [];
  const takesValue = valueFlags(root);
  let descending = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      rest.push(a);
      if (!a.includes("=") && takesValue.has(a) && i + 1 < argv.length) {
        rest.push(argv[i + 1] as string);
        i++;
      }
      continue;
    }
    const current = path[path.length - 1] as CommandSpec;
    const sub = descending ? current.subcommands?.find((c) => c.name === a) : undefined;
    if (sub !== undefined) {
      path.push(sub);
      continue;
    }
    if (descending && current.run === undefined && (current.subcommands ?? []).length > 0) {
      return { path, rest, unknown: a };
    }
    descending = false;
    rest.push(a);
  }
  return { path, rest };
}

/** execute runs argv against the command tree and returns the exit code. */
export async function execute(root: CommandSpec, argv: readonly string[], io: Io): Promise<number> {
  const { path, rest, unknown } = findCommand(root, argv);
  const cmd = path[path.length - 1] as CommandSpec;
  const commandPath = ["etcdctl", ...path.slice(1).map((c) => c.name)].join(" ");
  if (unknown !== undefined) {
    const msg = `unknown command "${unknown}" for "${commandPath}"`;
    io.stderr(`Error: ${msg}\nRun '${commandPath} --help' for usage.\nError: ${msg}\n`);
    return ExitCode.error;
  }
  const specs = [
    ...GLOBAL_FLAGS,
    ...path.slice(0, -1).flatMap((c) => c.persistentFlags ?? []),
    ...(cmd.flags ?? []),
    ...(cmd.persistentFlags ?? []),
    HELP_FLAG(cmd.name),
  ];
  const usage = helpText(path, false);
  let parsed: ParsedFlags;
  try {
    parsed = parseFlags(specs, rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`Error: ${err.message}\n\n`);
    io.stdout(usage);
    io.stderr(`Error: ${err.message}\n`);
    return ExitCode.error;
  }
  if (parsed.values.get("help") === true || cmd.run === undefined) {
    io.stdout(helpText(path, true));
    return ExitCode.success;
  }
  let session: Session | undefined;
  try {
    // etcdctl reads the environment into the command's inherited flags: the globals and its parents' persistent
    // flags (endpoint's --cluster); watch declares its two variables so that they are not warned about.
    const inherited = [...GLOBAL_FLAGS, ...path.slice(0, -1).flatMap((c) => c.persistentFlags ?? [])];
    const silenced = cmd.name === "watch" ? ["ETCDCTL_WATCH_KEY", "ETCDCTL_WATCH_RANGE_END"] : [];
    applyEnv(inherited, parsed.values, parsed.changed, io.env, io.stderr, silenced);
    session = new Session(io, resolveGlobals(parsed.values));
    await cmd.run({
      session,
      args: parsed.args,
      argsLenAtDash: parsed.argsLenAtDash,
      flag: <T extends FlagValue>(name: string) => parsed.values.get(name) as T,
      changed: (name: string) => parsed.changed.has(name),
      usage,
    });
    return ExitCode.success;
  } catch (err) {
    if (err instanceof ExitError) {
      if (err.message !== "") io.stderr(`Error: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof UsageError) {
      io.stderr(`Error: ${err.message}\n\n`);
      io.stdout(usage);
      io.stderr(`Error: ${err.message}\n`);
      return ExitCode.error;
    }
    io.stderr(`Error: ${(err as Error).message}\n`);
    return ExitCode.error;
  } finally {
    session?.close();
  }
}
