/**
 * The etcdctl-ts command tree.
 */
import { ROOT_SHORT, type CommandSpec } from "./command.js";
import { compaction } from "./commands/compaction.js";
import { del } from "./commands/del.js";
import { get } from "./commands/get.js";
import { put } from "./commands/put.js";
import { txn } from "./commands/txn.js";

/** program is the root command. */
export const program: CommandSpec = {
  name: "etcdctl",
  use: "etcdctl",
  short: ROOT_SHORT,
  subcommands: [compaction, del, get, put, txn],
};
