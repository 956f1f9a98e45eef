import { assert } from "../assert.js";
import { decodeMember, removedMemberId } from "../membership.js";

/** A bucket of etcd's bbolt backend: its name and its entries, both sorted bytewise. */
export interface Bucket {
  name: Uint8Array;
  entries: Array<[key: Uint8Array, value: Uint8Array]>;
}

/** SublevelEntries reads one sublevel of the backend (through one LevelDB snapshot) in key order. */
export type SublevelEntries = (
  name: "kv" | "lease" | "auth" | "members" | "meta",
) => Promise<Array<[Uint8Array, Uint8Array]>>;

const utf8 = new TextEncoder();
const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** varint appends a protobuf varint (two's complement for negative int64). */
function varint(out: number[], value: bigint): void {
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** leasepb.Lease { int64 ID = 1; int64 TTL = 2; int64 RemainingTTL = 3 }, as etcd stores a lease. */
function encodeLeasePb(id: bigint, ttlSeconds: bigint, remainingTtlSeconds: bigint): Uint8Array {
  const out: number[] = [];
  for (const [field, value] of [
    [1, id],
    [2, ttlSeconds],
    [3, remainingTtlSeconds],
  ] as const) {
    if (value === 0n) continue;
    out.push(field << 3);
    varint(out, value);
  }
  return Uint8Array.from(out);
}

/** etcd's revision key of (main, 0): 8 bytes big-endian, '_', 8 bytes big-endian. */
function revisionKey(main: bigint): Uint8Array {
  const out = new Uint8Array(17);
  new DataView(out.buffer).setBigUint64(0, main);
  out[8] = 0x5f;
  return out;
}

function isRevisionKey(key: Uint8Array): boolean {
  return (key.length === 17 || key.length === 18) && key[8] === 0x5f;
}

function sorted(entries: Array<[Uint8Array, Uint8Array]>): Array<[Uint8Array, Uint8Array]> {
  return entries.sort((a, b) => compareBytes(a[0], b[0]));
}

/**
 * etcdBuckets lays the member's backend out the way etcd's bbolt backend does, so that a snapshot file made
 * from it reads like etcd's (`etcdctl snapshot status`): `key` (revision -> mvccpb.KeyValue, as mvcc stores
 * it), `meta` (consistent_index, term, compaction revisions), `lease` (id -> leasepb.Lease), `members`,
 * `members_removed`, `cluster`, `alarm`, `auth`, `authUsers`, `authRoles`.
 */
export async function etcdBuckets(read: SublevelEntries, clusterVersion: string): Promise<Bucket[]> {
  const buckets: Bucket[] = [];
  const add = (name: string, entries: Array<[Uint8Array, Uint8Array]>) =>
    buckets.push({ name: utf8.encode(name), entries: sorted(entries) });

  const kv = await read("kv");
  const meta: Array<[Uint8Array, Uint8Array]> = [];
  const keyEntries: Array<[Uint8Array, Uint8Array]> = [];
  for (const [key, value] of kv) {
    if (isRevisionKey(key)) {
      keyEntries.push([key, value]);
      continue;
    }
    // mvcc's own bookkeeping: its compaction revisions, stored as decimal text.
    const name = latin1(key);
    const main = BigInt(latin1(value));
    if (name === "\xffscheduledCompactRev")
      meta.push([utf8.encode("scheduledCompactRev"), revisionKey(main)]);
    else if (name === "\xfffinishedCompactRev")
      meta.push([utf8.encode("finishedCompactRev"), revisionKey(main)]);
  }
  add("key", keyEntries);

  for (const [key, value] of await read("meta")) {
    const name = latin1(key);
    if (name === "consistent_index" || name === "term") meta.push([key, value]);
  }
  add("meta", meta);

  add(
    "lease",
    (await read("lease")).map(([key, value]) => {
      assert(key.length === 8 && value.length === 17, "a lease record is an 8-byte id and a 17-byte value");
      const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
      const id = new DataView(key.buffer, key.byteOffset, 8).getBigInt64(0);
      return [key, encodeLeasePb(id, view.getBigUint64(1), view.getBigUint64(9))];
    }),
  );

  // The members sublevel holds both the members and the markers of removed ones (etcd's members_removed:
  // the id in hex -> "removed").
  const memberEntries: Array<[Uint8Array, Uint8Array]> = [];
  const removed: Array<[Uint8Array, Uint8Array]> = [];
  for (const [key, value] of await read("members")) {
    const removedId = removedMemberId(key);
    if (removedId === undefined) memberEntries.push([key, value]);
    else removed.push([utf8.encode(removedId.toString(16)), utf8.encode("removed")]);
  }
  add(
    "members",
    memberEntries.map(([, value]) => {
      const member = decodeMember(value);
      const json: Record<string, unknown> = {
        id: Number(member.id), // etcd writes the id as a JSON number
        peerURLs: member.peerUrls,
      };
      if (member.name !== "") json.name = member.name;
      if (member.clientUrls.length > 0) json.clientURLs = member.clientUrls;
      if (member.isLearner) json.isLearner = true;
      return [utf8.encode(member.id.toString(16)), utf8.encode(JSON.stringify(json))];
    }),
  );
  add("members_removed", removed);
  add("cluster", [[utf8.encode("clusterVersion"), utf8.encode(clusterVersion)]]);

  const alarms: Array<[Uint8Array, Uint8Array]> = [];
  const auth: Array<[Uint8Array, Uint8Array]> = [];
  const users: Array<[Uint8Array, Uint8Array]> = [];
  const roles: Array<[Uint8Array, Uint8Array]> = [];
  for (const [key, value] of await read("meta")) {
    const name = latin1(key);
    if (!name.startsWith("alarm/")) continue;
    const [member, type] = name.slice("alarm/".length).split("/");
    const out: number[] = [0x08];
    varint(out, BigInt(`0x${member}`));
    if (Number(type) !== 0) {
      out.push(0x10);
      varint(out, BigInt(Number(type)));
    }
    alarms.push([Uint8Array.from(out), value.subarray(0, 0)]);
  }
  for (const [key, value] of await read("auth")) {
    const name = Buffer.from(key).toString("utf8");
    if (name === "m/enabled") auth.push([utf8.encode("authEnabled"), value]);
    else if (name === "m/revision") auth.push([utf8.encode("authRevision"), value]);
    else if (name.startsWith("u/")) users.push([utf8.encode(name.slice(2)), value]);
    else if (name.startsWith("r/")) roles.push([utf8.encode(name.slice(2)), value]);
  }
  add("alarm", alarms);
  add("auth", auth);
  add("authUsers", users);
  add("authRoles", roles);

  buckets.sort((a, b) => compareBytes(a.name, b.name));
  return buckets;
}
