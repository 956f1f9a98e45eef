// Unit tests of the single-member normaliser's id rules (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { LeaseRegistry, normalizeOutput } from "./normalize.mjs";

/** @param {bigint} clusterId @param {bigint} memberId */
function facts(clusterId, memberId) {
  return { dir: "/no/dir", runDir: "/no/run", clientPort: 1, peerPort: 2, clusterId, memberId };
}

test("a %16x id normalises the same whether or not it needs padding", () => {
  const short = normalizeOutput(
    "Member     1234abcd5678 added to cluster  abcdef012345678\n",
    facts(0x0abcdef012345678n, 0x1234abcd5678n),
    new LeaseRegistry(),
  );
  const full = normalizeOutput(
    "Member fedc1234abcd5678 added to cluster fabcdef012345678\n",
    facts(0xfabcdef012345678n, 0xfedc1234abcd5678n),
    new LeaseRegistry(),
  );
  assert.equal(short, "Member <MEMBER-ID> added to cluster <CLUSTER-ID>\n");
  assert.equal(full, short);
});

test("a padded lease-registry id (a member added by a step) loses its padding too", () => {
  const leases = new LeaseRegistry();
  leases.register(0x0123456789abcdefn);
  const out = normalizeOutput(
    "Member  123456789abcdef removed from cluster fabcdef012345678\n",
    facts(0xfabcdef012345678n, 1n),
    leases,
  );
  assert.equal(out, "Member <LEASE-1> removed from cluster <CLUSTER-ID>\n");
});

test("the zero-padded and decimal spellings of an id are replaced as before", () => {
  const out = normalizeOutput(
    '00abcdef01234567 {"cluster_id":48358647417488743}\n',
    facts(0xabcdef01234567n, 1n),
    new LeaseRegistry(),
  );
  assert.equal(out, '<CLUSTER-ID> {"cluster_id":<CLUSTER-ID>}\n');
});

test("lease list -w json names a lease no earlier output printed, in the list's order", () => {
  const leases = new LeaseRegistry();
  leases.register(1000001n);
  const out = normalizeOutput(
    '{"cluster_id":7,"leases":[{"id":1000001},{"id":2000002},{"id":3000003}]}\n',
    facts(7n, 1n),
    leases,
  );
  assert.equal(
    out,
    '{"cluster_id":<CLUSTER-ID>,"leases":[{"id":<LEASE-1>},{"id":<LEASE-2>},{"id":<LEASE-3>}]}\n',
  );
});
