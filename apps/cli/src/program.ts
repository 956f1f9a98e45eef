/**
 * The etcdctl-ts command tree.
 */
import { type CommandSpec, ROOT_SHORT } from "./command.js";
import { auth, role, user } from "./commands/auth.js";
import { check } from "./commands/check-perf.js";
import { compaction } from "./commands/compaction.js";
import { completeCommand, completion } from "./commands/completion.js";
import { del } from "./commands/del.js";
import { endpoint } from "./commands/endpoint.js";
import { get } from "./commands/get.js";
import { helpCommand } from "./commands/help.js";
import { lease } from "./commands/lease.js";
import { elect, lock } from "./commands/lock.js";
import { alarm, defrag, moveLeader, version } from "./commands/maintenance.js";
import { makeMirror } from "./commands/make-mirror.js";
import { member } from "./commands/member.js";
import { put } from "./commands/put.js";
import { snapshot } from "./commands/snapshot.js";
import { txn } from "./commands/txn.js";
import { watch } from "./commands/watch.js";

/** program is the root command. */
export const program: CommandSpec = {
  name: "etcdctl",
  use: "etcdctl",
  short: ROOT_SHORT,
  examples: [
    "etcdctl-ts put greeting hello",
    "etcdctl-ts get greeting -w json",
    "etcdctl-ts <command> --help   # every command has examples",
  ],
  subcommands: [
    completeCommand(() => program),
    alarm,
    auth,
    check,
    compaction,
    completion,
    defrag,
    del,
    elect,
    endpoint,
    get,
    helpCommand(() => program),
    lease,
    lock,
    makeMirror,
    member,
    moveLeader,
    put,
    role,
    snapshot,
    txn,
    user,
    version,
    watch,
  ],
};
