/**
 * The global flags every etcdctl command takes, their ETCDCTL_* environment variables, and the resolved
 * settings the commands use.
 */
import { readFileSync } from "node:fs";
import { ExitCode, ExitError, goPathErrorText, UsageError } from "./errors.js";
import type { FlagSpec, FlagValue } from "./flag-set.js";
import { parseFlags } from "./flag-set.js";
import { capnslogLine } from "./zap-log.js";

/** GLOBAL_FLAGS are etcdctl 3.4's persistent flags, with its defaults and help texts. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  {
    name: "cacert",
    kind: "string",
    defaultValue: "",
    usage: "verify certificates of TLS-enabled secure servers using this CA bundle",
  },
  {
    name: "cert",
    kind: "string",
    defaultValue: "",
    usage: "identify secure client using this TLS certificate file",
  },
  {
    name: "command-timeout",
    kind: "duration",
    defaultValue: 5000,
    usage: "timeout for short running command (excluding dial timeout)",
  },
  { name: "debug", kind: "bool", defaultValue: false, usage: "enable client-side debug logging" },
  {
    name: "dial-timeout",
    kind: "duration",
    defaultValue: 2000,
    usage: "dial timeout for client connections",
  },
  {
    name: "discovery-srv",
    short: "d",
    kind: "string",
    defaultValue: "",
    usage: "domain name to query for SRV records describing cluster endpoints",
  },
  {
    name: "discovery-srv-name",
    kind: "string",
    defaultValue: "",
    usage: "service name to query when using DNS discovery",
  },
  { name: "endpoints", kind: "stringSlice", defaultValue: ["127.0.0.1:2379"], usage: "gRPC endpoints" },
  { name: "hex", kind: "bool", defaultValue: false, usage: "print byte strings as hex encoded strings" },
  {
    name: "insecure-discovery",
    kind: "bool",
    defaultValue: true,
    usage: "accept insecure SRV records describing cluster endpoints",
  },
  {
    name: "insecure-skip-tls-verify",
    kind: "bool",
    defaultValue: false,
    usage:
      "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)",
  },
  {
    name: "insecure-transport",
    kind: "bool",
    defaultValue: true,
    usage: "disable transport security for client connections",
  },
  {
    name: "keepalive-time",
    kind: "duration",
    defaultValue: 2000,
    usage: "keepalive time for client connections",
  },
  {
    name: "keepalive-timeout",
    kind: "duration",
    defaultValue: 6000,
    usage: "keepalive timeout for client connections",
  },
  { name: "key", kind: "string", defaultValue: "", usage: "identify secure client using this TLS key file" },
  {
    name: "password",
    kind: "string",
    defaultValue: "",
    usage: "password for authentication (if this option is used, --user option shouldn't include password)",
  },
  {
    name: "user",
    kind: "string",
    defaultValue: "",
    usage: "username[:password] for authentication (prompt if password is not supplied)",
  },
  {
    name: "write-out",
    short: "w",
    kind: "string",
    defaultValue: "simple",
    usage: "set the output format (fields, json, protobuf, simple, table)",
  },
];

/** OutputFormat is a value of -w. */
export type OutputFormat = "simple" | "json" | "fields" | "table" | "protobuf";

/** GlobalOptions are the resolved global settings. */
export interface GlobalOptions {
  endpoints: string[];
  dialTimeoutMs: number;
  commandTimeoutMs: number;
  keepAliveTimeMs: number;
  keepAliveTimeoutMs: number;
  hex: boolean;
  writeOut: string;
  user: string;
  password: string;
  tls?: { ca?: string; cert?: string; key?: string; insecureSkipVerify?: boolean };
  insecureTransport: boolean;
  debug: boolean;
}

/** envName is the ETCDCTL_* variable of a flag. */
function envName(flag: string): string {
  return `ETCDCTL_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/**
 * applyEnv fills flags not given on the command line from ETCDCTL_* variables, as etcd 3.4's
 * pkg/flags.SetPflagsFromEnv does for a command's inherited flags (`specs`):
 * - a non-empty variable sets its flag unless the flag was given; a value the flag rejects is ignored (etcdctl
 *   drops SetPflagsFromEnv's error), so the flag keeps its default;
 * - then, in environment order, a variable whose flag was given on the command line is fatal (even when
 *   empty), and any other unused ETCDCTL_* variable is a warning. `silenced` variables are neither (etcdctl's
 *   watch declares ETCDCTL_WATCH_KEY and ETCDCTL_WATCH_RANGE_END this way); ETCDCTL_API never reaches this
 *   check in etcdctl (its main unsets it).
 * `stderr` receives the log lines.
 */
export function applyEnv(
  specs: readonly FlagSpec[],
  values: Map<string, FlagValue>,
  changed: ReadonlySet<string>,
  env: NodeJS.ProcessEnv,
  stderr: (s: string) => void,
  silenced: readonly string[] = [],
): void {
  const used = new Set<string>(["ETCDCTL_API"]);
  const shadowed = new Set<string>();
  for (const spec of specs) {
    const key = envName(spec.name);
    if (changed.has(spec.name)) {
      shadowed.add(key);
      continue;
    }
    const raw = env[key];
    if (raw === undefined || raw === "") continue;
    used.add(key);
    try {
      values.set(spec.name, parseFlags(specs, [`--${spec.name}=${raw}`]).values.get(spec.name) as FlagValue);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
    }
  }
  for (const name of silenced) used.add(name);
  for (const [k, v] of Object.entries(env)) {
    if (used.has(k)) continue;
    if (shadowed.has(k)) {
      stderr(
        `${capnslogLine("C", "pkg/flags", `conflicting environment variable "${k}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`)}\n`,
      );
      throw new ExitError(ExitCode.error, "");
    }
    if (k.startsWith("ETCDCTL_"))
      stderr(`${capnslogLine("W", "pkg/flags", `unrecognized environment variable ${k}=${v ?? ""}`)}\n`);
  }
}

/** resolveGlobals turns parsed flag values into {@link GlobalOptions}. */
export function resolveGlobals(values: ReadonlyMap<string, FlagValue>): GlobalOptions {
  const str = (n: string) => values.get(n) as string;
  const tlsWanted =
    str("cacert") !== "" ||
    str("cert") !== "" ||
    str("key") !== "" ||
    values.get("insecure-skip-tls-verify") === true;
  const readPem = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      throw new ExitError(ExitCode.badArgs, goPathErrorText(path, err));
    }
  };
  const options: GlobalOptions = {
    endpoints: values.get("endpoints") as string[],
    dialTimeoutMs: values.get("dial-timeout") as number,
    commandTimeoutMs: values.get("command-timeout") as number,
    keepAliveTimeMs: values.get("keepalive-time") as number,
    keepAliveTimeoutMs: values.get("keepalive-timeout") as number,
    hex: values.get("hex") as boolean,
    writeOut: str("write-out"),
    user: str("user"),
    password: str("password"),
    insecureTransport: values.get("insecure-transport") as boolean,
    debug: values.get("debug") as boolean,
  };
  if (tlsWanted) {
    options.tls = {
      ...(str("cacert") === "" ? {} : { ca: readPem(str("cacert")) }),
      ...(str("cert") === "" ? {} : { cert: readPem(str("cert")) }),
      ...(str("key") === "" ? {} : { key: readPem(str("key")) }),
      insecureSkipVerify: values.get("insecure-skip-tls-verify") === true,
    };
  }
  return options;
}
