// The ONE list of etcdctl steps that tools/compat runs against real etcd and against etcd-ts.
//
// Steps run in this order on both servers, in lockstep, so revisions must agree exactly. Each step is one of:
//   { run: "<etcdctl args>" }                  a foreground command; stdout, stderr and exit code compared
//   { start: "<etcdctl args>", id }            a background command (watch, lock, elect); nothing compared yet
//   { waitFor: id, until }                     wait until the background command printed enough; compares
//                                              only whether that happened
//   { stop: id, until }                        wait for `until`, then end it (SIGTERM, or `signal`) and compare
//                                              everything it printed and how it ended
//   { sleepMs }                                give a background command time to connect
// Options: stdin (text, or { repeat, bytes } for a large value), capture ({ NAME: /regex with one group/ } on
// stdout; later steps use {NAME} in args and stdin), sortLines (etcd prints some lists in map order),
// knownDifference ("why"; reported apart, does not fail the run), ignoreHash ("why": hashes become <HASH>),
// note (shown in the report).
// {dir} expands to the server's scratch dir, {endpoint} to its 127.0.0.1:<port>; every command gets the
// endpoint through ETCDCTL_ENDPOINTS (host:port, etcdctl's default form) unless it passes --endpoints.

/**
 * @typedef {object} Until
 * @property {number} [lines]      stdout has at least this many lines
 * @property {number} [timeoutMs]  give up waiting after this long (default 5 s)
 * @property {number} [settleMs]   stop: after the condition, wait this long for any further output (default
 *                                 200 ms), so a server that prints more than it should is caught
 */

/**
 * @typedef {object} Step
 * @property {string} [run]
 * @property {string} [start]
 * @property {string} [id]
 * @property {string} [waitFor]
 * @property {string} [stop]
 * @property {Until} [until]
 * @property {"SIGTERM" | "SIGINT"} [signal]
 * @property {number} [sleepMs]
 * @property {string | {repeat: string, bytes: number}} [stdin]
 * @property {Record<string, RegExp>} [capture]
 * @property {boolean} [sortLines]
 * @property {string} [knownDifference]
 * @property {string} [ignoreHash]
 * @property {string} [note]
 */

/** A value just over etcd's default --max-request-bytes (1.5 MiB) but under etcdctl's 2 MiB send limit. */
const TOO_LARGE_VALUE = { repeat: "x", bytes: 1600 * 1024 };

/** A value just under --max-request-bytes. */
const NEAR_LIMIT_VALUE = { repeat: "y", bytes: 1400 * 1024 };

const REVISION = /"revision":(\d+)/;

/** Keys carry their lease id, and lease ids differ between servers, so from then on the KV hash does too. */
const LEASED_HASH = "a key with a lease is in the history: its lease id is part of the hashed KeyValue";

/** @type {Step[]} */
/**
 * SNAPSHOT_LEASE_COUNT: TOTAL KEYS counts the lease bucket too. Once in six runs on 2026-12-07 etcd-ts's
 * snapshot held one lease fewer than etcd's (7 vs 8, same revision, same keys): which short-lived lease is
 * already gone at snapshot time differs between the two. Not yet explained; it stays in the report, apart.
 */
const SNAPSHOT_LEASE_COUNT =
  "intermittent: one lease fewer in etcd-ts's snapshot (lease expiry timing, open)";

export const steps = [
  // ---------------------------------------------------------------- put
  { run: "put foo bar" },
  { run: "put --prev-kv foo bar2" },
  { run: "put foo2 'hello world'" },
  { run: "put -- dash -value" },
  { run: "put stdin/key", stdin: "value from stdin" },
  { run: "put k/a zz" },
  { run: "put k/b aa" },
  { run: "put k/c mm" },
  { run: "put k/b bb" },
  { run: "put k/d dd" },
  { run: "put k/b cc -w json" },
  { run: "put --prev-kv k/a zz2 -w json" },
  { run: "put '' emptykey", note: "empty key" },
  { run: "put --ignore-value nokey", note: "ignore-value on a missing key" },
  { run: "put --ignore-value foo" },
  { run: "get foo -w json" },
  { run: "endpoint hashkv -w table", note: "no leases yet: the KV history hash must match exactly" },
  { run: "lease grant 600", capture: { L1: /lease ([0-9a-f]+) granted/ } },
  { run: "put --lease={L1} leased/1 v1" },
  { run: "put --ignore-lease leased/1 v2" },
  { run: "put --ignore-lease --prev-kv leased/1 v3" },
  { run: "put --ignore-value --ignore-lease leased/1" },
  { run: "get leased/1 -w json" },
  { run: "put --ignore-lease nokey2 v", note: "ignore-lease on a missing key" },
  { run: "put --lease=1234abcd k/x v", note: "missing lease" },
  { run: "put --ignore-value --lease={L1} foo", note: "both flags: value kept, lease set" },
  { run: "get foo -w fields" },
  { run: "put foo bar3", note: "detaches foo from the lease" },

  // ---------------------------------------------------------------- get
  { run: "get foo" },
  { run: "--endpoints=http://{endpoint} get foo", note: "endpoint with a scheme, as most users write it" },
  { run: "--endpoints={endpoint},{endpoint} get foo", note: "two endpoints" },
  { run: "get nokey" },
  { run: "get nokey -w json" },
  { run: "get --prefix k/" },
  { run: "get --prefix k/ --keys-only" },
  { run: "get --prefix k/ --print-value-only" },
  { run: "get --from-key k/b" },
  { run: "get --from-key '' --keys-only" },
  { run: "get k/a k/c" },
  { run: "get --prefix k/ --limit 2" },
  { run: "get --prefix k/ --limit 2 -w json" },
  { run: "get --prefix k/ --order DESCEND" },
  { run: "get --prefix k/ --order ASCEND --sort-by VALUE" },
  { run: "get --prefix k/ --sort-by VALUE --order DESCEND" },
  { run: "get --prefix k/ --sort-by VERSION --order DESCEND" },
  { run: "get --prefix k/ --sort-by CREATE --order DESCEND" },
  { run: "get --prefix k/ --sort-by MODIFY" },
  { run: "get --prefix k/ --sort-by KEY --order DESCEND --limit 3" },
  { run: "get --prefix k/ --sort-by MODIFY --order DESCEND --limit 1 -w json" },
  { run: "get --rev 3 foo" },
  { run: "get --rev 4 --prefix k/" },
  { run: "get --rev 9999 foo", note: "future revision" },
  { run: "get --consistency=s foo" },
  { run: "get --consistency=s --prefix k/ -w json" },
  { run: "get --prefix k/ -w json" },
  { run: "get --prefix k/ -w json --keys-only --limit 1" },
  { run: "get --prefix k/ -w fields --limit 1" },
  { run: "get foo -w table" },
  { run: "--hex get foo" },
  { run: "get -- -" },
  { run: "get --rev=-1 foo", note: "negative revision" },
  { run: "put uni/ключ значение" },
  { run: "put uni/empty ''", note: "empty value" },
  { run: "get --prefix uni/" },
  { run: "--hex get --prefix uni/" },
  { run: "get --prefix uni/ -w json" },
  { run: "get --count-only --prefix k/", note: "etcdctl 3.4 has no --count-only: both must reject it alike" },

  // ---------------------------------------------------------------- del
  { run: "put d/1 a" },
  { run: "put d/2 b" },
  { run: "put d/3 c" },
  { run: "put d2/1 x" },
  { run: "put d2/2 y" },
  { run: "del d/1" },
  { run: "del --prev-kv d/2" },
  { run: "del nokey" },
  { run: "del --prefix d/" },
  { run: "del --prefix --prev-kv d2/" },
  { run: "put e/1 a" },
  { run: "put e/2 b" },
  { run: "put e/3 c" },
  { run: "del e/1 e/3 -w json" },
  { run: "put zz/1 a" },
  { run: "put zz/2 b" },
  { run: "del --from-key --prev-kv zz/" },
  { run: "del --prefix e/ -w json --prev-kv" },

  // ---------------------------------------------------------------- txn
  // etcdctl 3.4 cannot send a lease compare: `lease("k") = "<id>"` panics in clientv3.Compare (bad value)
  // before any request is made, so lease compares are not in this list.
  {
    run: "txn",
    note: "success branch: compares on value, version, create and mod",
    stdin:
      'value("foo") = "bar3"\nversion("k/b") = "3"\ncreate("k/a") > "0"\nmod("k/a") < "1000"\n\nput t/ok yes\nget foo\ndel k/d\n\nput t/fail yes\n\n',
  },
  {
    run: "txn",
    note: "failure branch",
    stdin: 'value("foo") = "nope"\n\nput t/ok2 yes\n\nput t/fail yes\nget --prefix t/\n\n',
  },
  {
    run: "txn -w json",
    stdin: 'version("nokey") = "0"\nmod("foo") > "1"\n\nput t/j 1\nget t/j\n\nget foo\n\n',
  },
  { run: "txn", stdin: 'create("t/ok") != "0"\nvalue("t/ok") > "a"\n\ndel --prefix --prev-kv t/\n\n\n' },
  {
    run: "txn",
    stdin: 'version("k/b") = "1"\ncreate("k/a") = "1"\n\n\nput t/cmpfail x\n\n',
    note: "failure branch, no success ops",
  },
  { run: "txn", stdin: "\nput t/empty-cmp 1\n\n\n", note: "no compares: success" },
  { run: "txn", stdin: "\nput t/dup 1\nput t/dup 2\n\n\n", note: "duplicate key in txn" },
  {
    run: "txn",
    stdin: `\n${Array.from({ length: 129 }, (_, i) => `put t/many/${i} v`).join("\n")}\n\n\n`,
    note: "129 ops: over --max-txn-ops",
  },
  {
    run: "txn",
    stdin: 'value("foo") = "bar3"\n\nput --lease=1234abcd t/l v\n\n\n',
    note: "missing lease inside txn",
  },
  {
    run: "txn -i",
    stdin: 'value("foo") = "bar3"\n\nput t/i 1\n\nput t/i 2\n\n',
    note: "interactive mode, answers from stdin",
  },
  { run: "get --prefix t/" },

  // ---------------------------------------------------------------- lease
  { run: "lease grant 300", capture: { L2: /lease ([0-9a-f]+) granted/ } },
  { run: "lease grant 200 -w json", capture: { L3DEC: /"ID":(\d+)/ } },
  { run: "put --lease={L2} lz/1 a" },
  { run: "put --lease={L2} lz/2 b" },
  { run: "lease timetolive {L2}" },
  { run: "lease timetolive --keys {L2}" },
  { run: "lease timetolive --keys {L2} -w json" },
  { run: "lease keep-alive --once {L2}" },
  { run: "lease keep-alive --once {L2} -w json" },
  { run: "lease list", sortLines: true, note: "etcd lists leases in map order" },
  { start: "watch --prefix lz/", id: "wlz", note: "sees the revoke's deletes" },
  { sleepMs: 500 },
  { run: "lease revoke {L2}" },
  { stop: "wlz", until: { lines: 6 } },
  { run: "get --prefix lz/" },
  { run: "lease timetolive {L2}" },
  { run: "lease revoke {L2}", note: "already revoked" },
  { run: "lease keep-alive --once {L2}", note: "revoked lease" },
  { run: "lease timetolive 1234abcd" },
  { run: "lease grant 0" },
  { run: "lease grant -5" },
  { run: "lease list", sortLines: true },
  { start: "lease keep-alive {L1}", id: "ka", note: "the KeepAlive stream" },
  { stop: "ka", until: { lines: 1 } },
  // 4 s: long enough that the put below reaches the lease before it expires on a loaded machine.
  { run: "lease grant 4", capture: { LSHORT: /lease ([0-9a-f]+) granted/ } },
  { run: "put --lease={LSHORT} short/1 gone-soon" },
  { sleepMs: 7000, note: "the 4 s lease expires" },
  { run: "get --prefix short/" },
  { run: "lease timetolive --keys {LSHORT}" },
  { run: "get short/1 -w json", note: "the expiry's delete took one revision" },

  // ---------------------------------------------------------------- watch with concurrent puts
  { start: "watch --prefix w/", id: "w1" },
  { start: "watch --prev-kv w/a", id: "w2" },
  { sleepMs: 700 },
  { run: "put w/a 1" },
  { run: "put w/b 2" },
  { run: "put w/a 3" },
  { run: "del w/a" },
  { run: "put w/c 4" },
  { stop: "w1", until: { lines: 15 } },
  { stop: "w2", until: { lines: 13 } },
  { run: "put w/d 5 -w json", capture: { WREV: REVISION } },
  { run: "put w/d 6" },
  { run: "del --prefix w/" },
  { start: "watch --rev={WREV} --prefix --prev-kv w/", id: "w3", note: "history replay, then live events" },
  { waitFor: "w3", until: { lines: 23 } },
  { run: "put w/e 7" },
  { stop: "w3", until: { lines: 26 } },
  { start: "watch --rev={WREV} w/a w/e", id: "w4", note: "range watch from a revision" },
  { stop: "w4", until: { lines: 15 } },
  { start: "watch -w json --rev={WREV} w/d", id: "w6", note: "JSON watch responses carry the header" },
  { stop: "w6", until: { lines: 1 } },
  { start: "watch -i", id: "w5", stdin: "watch --prefix wi/\n", note: "interactive watch" },
  { sleepMs: 700 },
  { run: "put wi/1 x" },
  { stop: "w5", until: { lines: 3 } },
  { start: "watch -i", id: "w7", stdin: "watch foo\nprogress\n", note: "progress request" },
  { stop: "w7", until: { lines: 1 } },
  {
    start:
      "watch wx -- sh -c 'echo $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_REVISION'",
    id: "w8",
    note: "watch running a command per event",
  },
  { sleepMs: 700 },
  { run: "put wx exec-me" },
  { run: "del wx" },
  { stop: "w8", until: { lines: 2 } },

  // ---------------------------------------------------------------- lock with concurrent holders
  { start: "lock lk1", id: "lock-a" },
  { waitFor: "lock-a", until: { lines: 1 } },
  { start: "lock lk1", id: "lock-b" },
  { sleepMs: 700 },
  { run: "get --prefix lk1/ --keys-only --sort-by CREATE", note: "both holders queued" },
  { stop: "lock-a", until: { lines: 1 }, note: "first holder releases" },
  { waitFor: "lock-b", until: { lines: 1 } },
  { stop: "lock-b", until: { lines: 1 } },
  { run: "get --prefix lk1/ --keys-only" },
  { run: "lock lk2 -- sh -c 'echo $ETCD_LOCK_KEY; echo rev $ETCD_LOCK_REV'" },

  // ---------------------------------------------------------------- elect with concurrent candidates
  { start: "elect el1 p1", id: "el-a" },
  { waitFor: "el-a", until: { lines: 2 } },
  { start: "elect el1 p2", id: "el-b" },
  { start: "elect -l el1", id: "el-obs" },
  { waitFor: "el-obs", until: { lines: 2 } },
  { sleepMs: 300 },
  { run: "get --prefix el1/ --sort-by CREATE" },
  { stop: "el-a", until: { lines: 2 }, note: "leader resigns" },
  { waitFor: "el-b", until: { lines: 2 } },
  { waitFor: "el-obs", until: { lines: 4 } },
  { stop: "el-obs", until: { lines: 4 }, note: "the observer goes first: it is watching el-b's key" },
  { stop: "el-b", until: { lines: 2 } },
  { run: "get --prefix el1/" },

  // ---------------------------------------------------------------- limits
  { run: "put big", stdin: TOO_LARGE_VALUE, note: "1.6 MiB value: over --max-request-bytes" },
  { run: "get big" },

  // ---------------------------------------------------------------- compaction
  { run: "endpoint hashkv -w table", ignoreHash: LEASED_HASH },
  { run: "put c/1 a -w json", capture: { CREV: REVISION } },
  { run: "put c/1 b -w json", capture: { CREV2: REVISION } },
  { run: "compaction {CREV}" },
  { run: "get --rev 2 foo", note: "compacted revision" },
  { run: "get --rev {CREV} c/1" },
  { run: "compaction 3", note: "already compacted" },
  { run: "compaction 999999", note: "future revision" },
  { run: "compaction --physical {CREV2}" },
  { run: "get --rev {CREV} c/1", note: "compacted by the physical compaction" },
  { run: "compaction 0" },
  { start: "watch --rev 2 foo", id: "wc", note: "watch from a compacted revision" },
  { stop: "wc", until: { lines: 1, timeoutMs: 3000 } },
  { run: "endpoint hashkv", ignoreHash: LEASED_HASH },

  // ---------------------------------------------------------------- cluster and maintenance
  { run: "member list", capture: { MEMBER: /^([0-9a-f]+), started/ } },
  { run: "move-leader {MEMBER}", note: "to itself" },
  { run: "move-leader 1234", note: "no such member" },
  { run: "member list -w table" },
  { run: "member list -w json" },
  { run: "member list -w fields" },
  { run: "endpoint health" },
  { run: "endpoint health -w table" },
  { run: "endpoint status" },
  { run: "endpoint status -w table" },
  { run: "endpoint status -w json" },
  { run: "endpoint status -w fields" },
  { run: "endpoint status --cluster" },
  { run: "endpoint health --cluster" },
  { run: "endpoint hashkv --cluster", ignoreHash: LEASED_HASH },
  { run: "endpoint hashkv -w table", ignoreHash: LEASED_HASH },
  { run: "alarm list" },
  { run: "alarm disarm" },
  { run: "alarm list -w json" },
  { run: "defrag" },
  { run: "defrag --cluster" },
  { run: "endpoint status -w table" },
  { run: "snapshot save {dir}/snap.db" },
  {
    run: "snapshot status {dir}/snap.db -w table",
    note: "reads the saved backend file",
    ignoreHash: "hash of the backend file's bytes",
    knownDifference: SNAPSHOT_LEASE_COUNT,
  },
  {
    run: "snapshot status {dir}/snap.db -w json",
    ignoreHash: "hash of the backend file's bytes",
    knownDifference: SNAPSHOT_LEASE_COUNT,
  },
  { run: "snapshot save {dir}/no/such/dir/snap.db" },

  // ---------------------------------------------------------------- users, roles and auth
  { run: "auth enable", note: "no root user yet" },
  { run: "user add root --new-user-password=rootpw --interactive=false" },
  { run: "user add root --new-user-password=x --interactive=false", note: "exists" },
  { run: "role add reader" },
  { run: "role add reader", note: "exists" },
  { run: "role grant-permission reader read p/ --prefix" },
  { run: "role grant-permission reader readwrite q/a q/z" },
  { run: "role grant-permission reader write --from-key zzz" },
  { run: "role grant-permission nobody read x" },
  { run: "role get reader" },
  { run: "role list" },
  { run: "user add alice:alicepw --interactive=false" },
  { run: "user add bob --interactive=false", stdin: "bobpw\n" },
  { run: "user add carol --no-password" },
  { run: "user grant-role alice reader" },
  { run: "user grant-role alice nobody" },
  { run: "user get alice" },
  { run: "user get alice --detail" },
  { run: "user get nobody" },
  { run: "user list" },
  { run: "put p/1 visible" },
  { run: "put q/b writable" },
  {
    run: "auth enable",
    note: "root has no root role yet: etcdctl adds the role and grants it, then enables",
  },
  { run: "get foo", note: "no user" },
  { run: "endpoint health", note: "no user: permission denied still means healthy" },
  { run: "get foo --user carol:x", note: "user without password" },
  { run: "auth enable --user root:rootpw", note: "already enabled" },
  { run: "user grant-role root root --user root:rootpw", note: "already granted" },
  { run: "get foo --user root:rootpw" },
  { run: "get foo --user root:wrongpw", note: "wrong password" },
  { run: "get foo --user nobody:pw", note: "unknown user" },
  { run: "get p/1 --user alice:alicepw" },
  { run: "get --prefix p/ --user alice:alicepw" },
  { run: "get foo --user alice:alicepw", note: "permission denied" },
  { run: "get p/1 --user alice --password alicepw" },
  { start: "watch foo --user alice:alicepw", id: "wauth", note: "watch on a denied key" },
  { stop: "wauth", until: { lines: 1, timeoutMs: 3000 } },
  // The watch starts from the put's revision: when it is established (after a bcrypt check, slow on a loaded
  // machine) is timing, what it delivers is not.
  { run: "put p/3 seen --user root:rootpw" },
  { run: "get p/3 -w json --user root:rootpw", capture: { P3REV: /"mod_revision":(\d+)/ } },
  { start: "watch --prefix p/ --rev {P3REV} --user alice:alicepw", id: "wauth2" },
  { stop: "wauth2", until: { lines: 3 } },
  { run: "role get root --user root:rootpw" },
  { run: "user get root --user root:rootpw" },
  { run: "put p/2 x --user alice:alicepw", note: "read-only range" },
  { run: "put q/c x --user alice:alicepw" },
  { run: "get --prefix q/ --user alice:alicepw", note: "prefix q/ is wider than [q/a, q/z)" },
  { run: "get q/a q/z --user alice:alicepw" },
  { run: "del q/c --user alice:alicepw" },
  { run: "txn --user alice:alicepw", stdin: 'value("p/1") = "visible"\n\nput q/d 1\n\nput foo no\n\n' },
  {
    run: "txn --user alice:alicepw",
    stdin: 'value("foo") = "bar3"\n\nput q/d 1\n\n\n',
    note: "compare on a denied key",
  },
  { run: "get foo --user bob:bobpw", note: "no roles" },
  { run: "user list --user alice:alicepw", note: "not root" },
  { run: "user list --user root:rootpw" },
  { run: "role list --user root:rootpw" },
  { run: "endpoint status --user alice:alicepw" },
  { run: "lease grant 60 --user alice:alicepw" },
  { run: "user passwd alice --interactive=false --user root:rootpw", stdin: "newpw\n" },
  { run: "get p/1 --user alice:alicepw", note: "old password" },
  { run: "get p/1 --user alice:newpw" },
  { run: "role revoke-permission reader p/ --prefix --user root:rootpw" },
  { run: "role revoke-permission reader p/ --prefix --user root:rootpw", note: "already revoked" },
  { run: "get p/1 --user alice:newpw" },
  { run: "role get reader --user root:rootpw" },
  { run: "user revoke-role alice reader --user root:rootpw" },
  { run: "user revoke-role alice reader --user root:rootpw", note: "not granted" },
  { run: "user get alice --user root:rootpw" },
  { run: "user delete alice --user root:rootpw" },
  { run: "user delete alice --user root:rootpw", note: "already deleted" },
  { run: "role delete reader --user root:rootpw" },
  { run: "role get reader --user root:rootpw" },
  { run: "user revoke-role root root --user root:rootpw", note: "root must keep its role" },
  { run: "auth disable --user bob:bobpw", note: "not root" },
  { run: "auth disable --user root:rootpw" },
  { run: "get foo" },
  { run: "user list" },
  { run: "user delete root" },
  { run: "get --prefix '' --keys-only" },
  { run: "endpoint hashkv", ignoreHash: LEASED_HASH },

  // ---------------------------------------------------------------- backend quota (last: a server that takes
  // a write etcd refuses here shifts every later revision)
  // Both servers run with --quota-backend-bytes=2MiB: the first 1.4 MiB value fits, the second raises NOSPACE.
  { run: "put nospace/1", stdin: NEAR_LIMIT_VALUE },
  { run: "put nospace/2", stdin: NEAR_LIMIT_VALUE, note: "over the backend quota" },
  { run: "alarm list" },
  { run: "alarm list -w json" },
  { run: "put small x", note: "writes are refused while NOSPACE is raised" },
  { run: "txn", stdin: "\nput small x\n\n\n" },
  { run: "lease grant 100", note: "so are lease grants" },
  { run: "get foo", note: "reads still work" },
  { run: "get nospace/1 --keys-only" },
  { run: "del nospace/1 -w json", note: "so do deletes", capture: { NREV: REVISION } },
  { run: "compaction {NREV}", note: "and compaction" },
  { run: "defrag" },
  { run: "alarm disarm" },
  { run: "alarm list" },
  { run: "put small x" },
];
