// The cluster scenario of tools/compat: membership and leadership commands that a single member cannot show,
// run against two 3-member clusters (infra1..3) in lockstep. See cluster-run.mjs.
//
// Each step is one of:
//   { run: "<etcdctl args>", on }   a command against member `on` (default "infra1"), or "all" (every running
//                                   member's endpoint: move-leader needs the leader among them); stdout,
//                                   stderr and exit code compared
//   { reserve: "infra4" }           set aside ports for a member about to be added; {PEER_infra4} is its peer URL
//   { startMember: "infra4" }       start the member that the last `member add infra4 ...` step added, with
//                                   that step's ETCD_INITIAL_CLUSTER and --initial-cluster-state existing;
//                                   compares whether it came up
//   { stopMember: "infra4" }        end the member's process (removed members exit by themselves; this
//                                   makes sure); nothing compared
//   { leader: "infra1" }            make `infra1` the leader (move-leader when it is not); nothing compared
// Options of run steps: retry ({ while: /re/, timeoutMs }: run again while the output matches, e.g. etcd's
// "unhealthy cluster" in the seconds after a start), until ({ match: /re/, timeoutMs }: run again until it
// matches, e.g. a promote that waits for the learner to catch up); only the last outcome is compared.
// sortLines (etcd prints members in id order), note.
// Placeholders: {ID_<name>} a member's id in hex (from member list, or from the member add that created it),
// {PEER_<name>} its advertised peer URL, {CLIENT_<name>} its client URL.
// A `member add NAME ...` step that succeeds remembers NAME's id and output for later steps.

/**
 * @typedef {object} ClusterStep
 * @property {string} [run]
 * @property {string} [on]
 * @property {string} [reserve]
 * @property {string} [startMember]
 * @property {string} [stopMember]
 * @property {string} [leader]
 * @property {{while: RegExp, timeoutMs?: number}} [retry]
 * @property {{match: RegExp, timeoutMs?: number}} [until]
 * @property {boolean} [sortLines]
 * @property {string} [knownDifference]
 * @property {string} [note]
 */

/** etcd refuses reconfiguration until every voter has been connected for 5 s (its health interval). */
const AFTER_START = { while: /unhealthy cluster/, timeoutMs: 15_000 };

/** @type {ClusterStep[]} */
export const clusterSteps = [
  // ---------------------------------------------------------------- the cluster as it formed
  { leader: "infra1" },
  { run: "member list", sortLines: true },
  { run: "member list -w table" },
  { run: "member list -w json" },
  { run: "member list -w fields", sortLines: true },
  { run: "endpoint status --cluster", sortLines: true },
  { run: "endpoint status --cluster -w table" },
  { run: "endpoint status --cluster -w json" },
  { run: "endpoint health --cluster", sortLines: true },
  { run: "endpoint health --cluster -w table" },
  { run: "put cluster/k v1" },
  { run: "get cluster/k", on: "infra3", note: "a linearizable read on a follower" },
  { run: "get cluster/k --consistency=s -w json", on: "infra2" },

  // ---------------------------------------------------------------- leadership
  { run: "move-leader {ID_infra2}", on: "all" },
  { run: "endpoint status --cluster -w table", note: "infra2 leads now" },
  { run: "move-leader {ID_infra2}", on: "all", note: "to the leader itself" },
  { run: "move-leader {ID_infra1}", on: "all" },
  { run: "move-leader 1234", on: "all", note: "no such member" },
  { run: "move-leader {ID_infra3}", on: "infra2", note: "no leader among the endpoints given" },
  { leader: "infra1" },

  // ---------------------------------------------------------------- errors for members that are not there
  { run: "member promote {ID_infra2}", retry: AFTER_START, note: "a voter" },
  { run: "member promote 1234" },
  { run: "member remove 1234" },
  { run: "member update 1234 --peer-urls=http://127.0.0.1:1" },
  {
    run: "member update {ID_infra2} --peer-urls={PEER_infra3}",
    retry: AFTER_START,
    note: "another member's peer URL",
  },
  {
    run: "member add infra1 --peer-urls={PEER_infra1}",
    retry: AFTER_START,
    note: "an existing member's peer URL",
  },
  { run: "member remove zz", note: "not a hex id" },

  // ---------------------------------------------------------------- a learner
  { reserve: "infra4" },
  { run: "member add infra4 --peer-urls={PEER_infra4} --learner", retry: AFTER_START },
  { run: "member list", sortLines: true, note: "the learner is unstarted" },
  { run: "member list -w table" },
  { run: "member promote {ID_infra4}", note: "not started, so not in sync" },
  { reserve: "infra5" },
  {
    run: "member add infra5 --peer-urls={PEER_infra5} --learner",
    retry: AFTER_START,
    note: "a second learner",
  },
  { run: "move-leader {ID_infra4}", on: "all", note: "to a learner" },
  { startMember: "infra4" },
  { run: "member list", sortLines: true },
  { run: "put cluster/learner x", on: "infra4", note: "learners serve no writes" },
  {
    run: "get cluster/k --command-timeout=2s",
    on: "infra4",
    note: "nor linearizable reads (etcdctl retries them until its timeout)",
  },
  { run: "get cluster/k --consistency=s", on: "infra4", until: { match: /v1/, timeoutMs: 10_000 } },
  { run: "endpoint status -w table", on: "infra4" },
  { run: "endpoint status -w json", on: "infra4" },
  { run: "member promote {ID_infra4}", until: { match: /promoted/, timeoutMs: 20_000 } },
  { run: "member promote {ID_infra4}", note: "a voter now" },
  { run: "member update {ID_infra4} --peer-urls={PEER_infra4}", retry: AFTER_START, note: "same URL" },
  { run: "member list -w table" },
  { run: "member list -w json" },
  { leader: "infra1" },
  { run: "endpoint status --cluster -w table" },
  { run: "endpoint health --cluster", sortLines: true },
  { run: "put cluster/k v2", on: "infra4", note: "the promoted member takes writes" },
  { run: "get cluster/k", on: "infra4" },

  // ---------------------------------------------------------------- removing members
  { run: "member remove {ID_infra4}", retry: AFTER_START },
  { stopMember: "infra4" },

  // ---------------------------------------------------------------- a voter added and started
  { reserve: "infra6" },
  { run: "member add infra6 --peer-urls={PEER_infra6}", retry: AFTER_START },
  { run: "member list", sortLines: true, note: "unstarted voter" },
  { startMember: "infra6" },
  { run: "member list -w table" },
  { run: "put cluster/k v6", on: "infra6" },
  { run: "get cluster/k", on: "infra6" },
  { run: "move-leader {ID_infra6}", on: "all" },
  { run: "endpoint status --cluster -w table", note: "infra6 leads" },
  { leader: "infra1" },
  { run: "member remove {ID_infra6}", retry: AFTER_START },
  { stopMember: "infra6" },
  { run: "member remove {ID_infra3}", retry: AFTER_START },
  { stopMember: "infra3" },
  { run: "member list", sortLines: true },
  { run: "endpoint status --cluster -w table" },

  // ------------------------------------------- strict reconfiguration: two started members and an unstarted one
  { run: "member add infra5 --peer-urls={PEER_infra5}", retry: AFTER_START, note: "a voter, never started" },
  { run: "member list", sortLines: true },
  {
    run: "member remove {ID_infra2}",
    retry: AFTER_START,
    note: "would leave one started member of two: not enough started members",
  },
  { run: "member remove {ID_infra5}", retry: AFTER_START, note: "an unstarted member can go" },
  { run: "member list -w table" },
  { run: "endpoint health --cluster", sortLines: true },
  { run: "put cluster/k v3", on: "infra2" },
  { run: "get cluster/k -w json", on: "infra1" },
];
