// Reading `etcdctl member add` output (etcdctl 3.4 prints ids with %16x, so short ids come space-padded).

import assert from "node:assert/strict";
import { it } from "node:test";
import { parseMemberAddOutput } from "../etcdctl.mjs";

it("parses member add output, also with a space-padded id", () => {
  const out = [
    "Member  9ac42869d133582 added to cluster 46c3bf7c39719bef",
    "",
    'ETCD_NAME="infra4"',
    'ETCD_INITIAL_CLUSTER="infra4=http://127.0.0.1:40413,infra1=http://127.0.0.1:44171"',
    'ETCD_INITIAL_ADVERTISE_PEER_URLS="http://127.0.0.1:40413"',
    'ETCD_INITIAL_CLUSTER_STATE="existing"',
    "",
  ].join("\n");
  assert.deepEqual(parseMemberAddOutput(out), {
    memberId: "9ac42869d133582",
    clusterId: "46c3bf7c39719bef",
    name: "infra4",
    initialCluster: "infra4=http://127.0.0.1:40413,infra1=http://127.0.0.1:44171",
    peerUrls: ["http://127.0.0.1:40413"],
    state: "existing",
  });
});

it("rejects the output of a failed member add", () => {
  assert.throws(() => parseMemberAddOutput("Error: etcdserver: unhealthy cluster\n"), /not the output/);
});
