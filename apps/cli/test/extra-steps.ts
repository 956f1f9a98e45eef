/**
 * Steps for what tools/compat's list leaves out: membership changes, make-mirror, version, check perf's
 * flags, and argument and flag errors. They run after that list, against the same servers. `registerId` captures make a new member's
 * id known to the normaliser (it is random, like a lease id).
 */
import type { Step } from "./compat-harness.js";

const MEMBER = /Member ([0-9a-f]+) added/;

/** sortInitialCluster orders the name=url items of ETCD_INITIAL_CLUSTER (etcd lists members by random id). */
function sortInitialCluster(out: string): string {
  return out.replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/, (_, list: string) => {
    return `ETCD_INITIAL_CLUSTER="${list.split(",").sort().join(",")}"`;
  });
}

/** sortMembersJson orders the member objects of `member list -w json` (etcd lists them by random id). */
function sortMembersJson(out: string): string {
  return out.replace(/"members":\[(.*)\]/, (_, list: string) => {
    return `"members":[${list
      .split(/,(?=\{"ID")/)
      .sort()
      .join(",")}]`;
  });
}

/** extraSteps are appended to tools/compat's steps. */
export const extraSteps: Step[] = [
  { run: "version" },
  // check perf's 60 s runs report timing (tested against etcd-ts in etcd-ts.test.ts); its flag checking is
  // compared here.
  { run: "check perf --load=x", note: "an unknown load" },
  // ---------------------------------------------------------------- membership (a learner: quorum stays 1)
  {
    run: "member add --learner learner1 --peer-urls=http://127.0.0.1:1",
    capture: { NEWMEMBER: MEMBER },
    registerId: "NEWMEMBER",
    canonical: sortInitialCluster,
  },
  { run: "member list", sortLines: true },
  { run: "member list -w json", canonical: sortMembersJson },
  { run: "member update {NEWMEMBER} --peer-urls=http://127.0.0.1:2" },
  { run: "member list -w table", sortLines: true },
  { run: "member promote {NEWMEMBER}", note: "a learner that never started is not in sync" },
  { run: "member remove {NEWMEMBER}" },
  { run: "member remove {NEWMEMBER}", note: "already removed" },
  { run: "member promote 1234", note: "no such member" },
  { run: "member update 1234 --peer-urls=http://127.0.0.1:3" },
  { run: "member add nourls" },
  { run: "member remove xyz" },
  { run: "member list" },
  // ---------------------------------------------------------------- make-mirror within one cluster
  { run: "put src/a 1" },
  { run: "put src/b 2" },
  { start: "make-mirror --prefix src/ --dest-prefix mirror/ {endpoint}", id: "mm" },
  { sleepMs: 700 },
  { run: "put src/c 3" },
  { run: "del src/a" },
  { sleepMs: 500 },
  { stop: "mm", until: { lines: 0 } },
  { run: "get --prefix mirror/" },
  { run: "get --prefix mirror/ -w json" },
  // ---------------------------------------------------------------- more output formats
  { run: "lease grant 100 -w fields", capture: { LX: /"ID" : (\d+)/ } },
  { run: "lease list -w json" },
  { run: "put --prev-kv src/b 22 -w fields" },
  { run: "del --prev-kv src/b -w fields" },
  { run: "--hex get --prefix src/ -w json" },
  {
    run: "endpoint hashkv -w fields",
    ignoreHash: "leases in the history",
    canonical: (out) => out.replace(/"Hash" : \d+/, '"Hash" : <HASH>'),
  },
  { run: "alarm list -w table" },
  { run: "user list -w json" },
  { run: "role list -w json" },
  { run: "auth disable -w json" },
  // ---------------------------------------------------------------- argument and flag errors
  { run: "get" },
  { run: "get a b c" },
  { run: "get --prefix --from-key a" },
  { run: "get --prefix a b" },
  { run: "get --rev x a" },
  { run: "get --rev" },
  { run: "get --order SIDEWAYS a" },
  { run: "get --sort-by X a" },
  { run: "get --consistency=x a" },
  { run: "-w yaml get foo" },
  { run: "put" },
  { run: "put --ignore-value a b" },
  { run: "put --lease=zz k v" },
  { run: "del" },
  { run: "del a b c" },
  { run: "nosuchcommand" },
  { run: "lease grant" },
  { run: "lease grant x" },
  { run: "lease revoke zz" },
  { run: "lease timetolive" },
  { run: "compaction" },
  { run: "compaction x" },
  { run: "move-leader" },
  { run: "snapshot save" },
  { run: "user add" },
  { run: "role grant-permission r" },
  { run: "role grant-permission r bad k" },
  { run: "txn", stdin: 'nope("k") = "v"\n\n\n\n' },
  { run: "watch" },
];
