/**
 * @etcd-ts/cli: etcdctl-ts as a library, for embedding and tests. The binary is `dist/main.js`.
 */
export type { CommandSpec, RunContext } from "./command.js";
export { API_VERSION, ETCDCTL_VERSION, execute, helpText } from "./command.js";
export { ExitCode, ExitError, UsageError } from "./errors.js";
export type { FlagKind, FlagSpec, FlagValue, ParsedFlags } from "./flag-set.js";
export { parseFlags } from "./flag-set.js";
export { goJson, goJsonString } from "./go-json.js";
export { program } from "./program.js";
export type { Io } from "./session.js";
export { tabAlign } from "./tab-writer.js";
