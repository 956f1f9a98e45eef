/**
 * FlagSet: command-line flags with the semantics of Go's pflag, which etcdctl uses: flags anywhere among the
 * arguments, `--name=value` and `--name value`, bool flags that take `--name=false`, shorthands (`-w json`,
 * `-wjson`), `--` ending the flags, and pflag's exact error texts. commander cannot reproduce these (it has
 * no `--bool=false`, different errors and help layout), and users script against them, so they are written here.
 */
import { UsageError } from "./errors.js";
import { formatGoDuration, parseGoDuration } from "./go-duration.js";

/** FlagKind is the type of a flag's value. */
export type FlagKind = "bool" | "string" | "int" | "uint" | "duration" | "stringSlice";

/** FlagValue is a parsed flag value. */
export type FlagValue = boolean | string | bigint | number | string[];

/** FlagSpec declares one flag. */
export interface FlagSpec {
  /** name is the long name without dashes. */
  name: string;
  /** short is the one-letter shorthand, if any. */
  short?: string;
  kind: FlagKind;
  /** defaultValue: durations in milliseconds, ints as bigint. */
  defaultValue: FlagValue;
  usage: string;
  /** hidden flags are accepted but not listed in help. */
  hidden?: boolean;
}

/** ParsedFlags are the result of {@link parseFlags}. */
export interface ParsedFlags {
  /** values holds every declared flag, set or defaulted. */
  values: Map<string, FlagValue>;
  /** changed holds the names of flags given on the command line. */
  changed: Set<string>;
  /** args are the positional arguments, in order. */
  args: string[];
  /** argsLenAtDash is the number of positional arguments before `--`, or -1 without one. */
  argsLenAtDash: number;
}

function parseValue(spec: FlagSpec, raw: string, shown: string): FlagValue {
  const invalid = (why: string) => new UsageError(`invalid argument "${raw}" for "${shown}" flag: ${why}`);
  switch (spec.kind) {
    case "bool": {
      const v = parseGoBool(raw);
      if (v === undefined) throw invalid(`strconv.ParseBool: parsing "${raw}": invalid syntax`);
      return v;
    }
    case "string":
      return raw;
    case "int":
    case "uint": {
      if (!/^[+-]?\d+$/.test(raw) || (spec.kind === "uint" && raw.startsWith("-"))) {
        throw invalid(
          `strconv.Parse${spec.kind === "int" ? "Int" : "Uint"}: parsing "${raw}": invalid syntax`,
        );
      }
      return BigInt(raw);
    }
    case "duration": {
      const ms = parseGoDuration(raw);
      if (ms === undefined) throw invalid(`time: invalid duration "${raw}"`);
      return ms;
    }
    case "stringSlice":
      return raw === "" ? [] : raw.split(",");
  }
}

/** parseGoBool accepts what Go's strconv.ParseBool accepts. */
export function parseGoBool(raw: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(raw)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(raw)) return false;
  return undefined;
}

/**
 * parseFlags parses `argv` against `specs` (local and inherited flags together). A stringSlice flag given
 * twice accumulates, as pflag's does.
 */
export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[]): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short as string, s]));
  const values = new Map<string, FlagValue>(specs.map((s) => [s.name, s.defaultValue]));
  const changed = new Set<string>();
  const args: string[] = [];
  let argsLenAtDash = -1;
  const set = (spec: FlagSpec, raw: string, shown: string) => {
    const v = parseValue(spec, raw, shown);
    if (spec.kind === "stringSlice" && changed.has(spec.name)) {
      values.set(spec.name, [...(values.get(spec.name) as string[]), ...(v as string[])]);
    } else {
      values.set(spec.name, v);
    }
    changed.add(spec.name);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      argsLenAtDash = args.length;
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byName.get(name);
      if (spec === undefined) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) {
        set(spec, a.slice(eq + 1), `--${name}`);
      } else if (spec.kind === "bool") {
        set(spec, "true", `--${name}`);
      } else {
        const next = argv[i + 1];
        if (next === undefined) throw new UsageError(`flag needs an argument: --${name}`);
        i++;
        set(spec, next, `--${name}`);
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // A run of shorthands: bools in a row, the last (or one followed by its value) may take a value.
      for (let j = 1; j < a.length; j++) {
        const c = a[j] as string;
        const spec = byShort.get(c);
        if (spec === undefined) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`);
        const shown = `-${c}, --${spec.name}`;
        if (a[j + 1] === "=") {
          set(spec, a.slice(j + 2), shown);
          break;
        }
        if (spec.kind === "bool") {
          set(spec, "true", shown);
          continue;
        }
        if (j + 1 < a.length) {
          set(spec, a.slice(j + 1), shown);
          break;
        }
        const next = argv[i + 1];
        if (next === undefined) throw new UsageError(`flag needs an argument: '${c}' in -${c}`);
        i++;
        set(spec, next, shown);
        break;
      }
      continue;
    }
    args.push(a);
  }
  return { values, changed, args, argsLenAtDash };
}

/** flagDefaultText renders a flag's name and default as etcdctl's help does: `--rev=0`, `--prefix[=false]`. */
export function flagDefaultText(spec: FlagSpec): string {
  const lead = spec.short === undefined ? "      " : `  -${spec.short}, `;
  const d = spec.defaultValue;
  switch (spec.kind) {
    case "bool":
      return `${lead}--${spec.name}[=${String(d)}]`;
    case "string":
      return `${lead}--${spec.name}=${JSON.stringify(d)}`;
    case "duration":
      return `${lead}--${spec.name}=${formatGoDuration(d as number)}`;
    case "stringSlice":
      return `${lead}--${spec.name}=[${(d as string[]).join(",")}]`;
    default:
      return `${lead}--${spec.name}=${String(d)}`;
  }
}
