import fs from "node:fs";
import path from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { encodeLeaseKey, encodeLeaseValue, type LeaseId } from "@etcd-ts/lease";
import { RoleSchema, UserSchema } from "@etcd-ts/proto/authpb";
import { KeyValueSchema } from "@etcd-ts/proto/mvccpb";
import { ConfChangeType, type Entry, EntryType, encodeConfChange } from "@etcd-ts/raft";
import { Wal } from "@etcd-ts/wal";
import { Backend, type BackendWrite } from "../backend.js";
import {
  clusterIdOf,
  encodeMember,
  type MemberInfo,
  memberIdOf,
  parseInitialCluster,
} from "../membership.js";
import {
  type BoltBucketView,
  BoltDb,
  checkSnapshotFileHash,
  fileSource,
  SnapshotFileError,
} from "./bolt-reader.js";

// Restoring seeds a NEW cluster from a snapshot file, like etcdutl's `snapshot restore`: the data (keys with
// their whole revision history, leases, users, roles, auth settings, compaction revision) is copied into a
// fresh backend; the old members, alarms and the old consistent index are dropped; and a new WAL starts the
// member exactly as `etcd-ts` bootstraps a new cluster: one committed AddNode conf-change entry per member
// of --initial-cluster at term 1. The member replays those entries on its first start (the backend's
// consistent index is 0), which records the new membership in the backend.

/** RestoreOptions are etcdutl's `snapshot restore` flags. */
export interface RestoreOptions {
  /** snapshotPath is the file saved by `etcdctl snapshot save` (or a member's db with skipHashCheck). */
  snapshotPath: string;
  /** dataDir is the new member's data dir; it must not exist yet (or be empty). */
  dataDir: string;
  /** walDir is a dedicated WAL dir ("" for <dataDir>/member/wal). */
  walDir?: string;
  /** name is this member's name in initialCluster. */
  name: string;
  /** initialCluster is the new cluster (`name=peerURL,...`); "" means just this member. */
  initialCluster: string;
  /** initialClusterToken seeds the new member and cluster ids. */
  initialClusterToken: string;
  /** initialAdvertisePeerUrls are this member's peer URLs; they must be its URLs in initialCluster. */
  initialAdvertisePeerUrls: string[];
  /** skipHashCheck skips the SHA-256 check (needed for a db file with no trailer). */
  skipHashCheck?: boolean;
  /** onProgress hears how many of the snapshot's entries were copied so far (about every 1000). */
  onProgress?: (progress: RestoreProgress) => void;
}

/** RestoreProgress counts the snapshot's key/value entries copied into the new backend. */
export interface RestoreProgress {
  done: number;
  total: number;
}

/** RestoreResult describes the member and cluster that were seeded. */
export interface RestoreResult {
  memberId: bigint;
  clusterId: bigint;
  members: MemberInfo[];
  /** revision is the newest revision in the snapshot's key bucket (0 when empty). */
  revision: bigint;
  /** compactRevision is the snapshot's scheduled compaction revision (0 when never compacted). */
  compactRevision: bigint;
  /** Counts of what was copied. */
  revisions: number;
  leases: number;
  users: number;
  roles: number;
}

/** Entries copied per backend batch. */
const BATCH_ENTRIES = 10_000;
/** How often (in entries) progress is reported. */
const PROGRESS_EVERY = 1000;

const utf8 = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));

// Keys outside mvcc's revision keyspace in its sublevel: the compaction revisions, as decimal text.
const scheduledCompactKey = latin1("\xffscheduledCompactRev");
const finishedCompactKey = latin1("\xfffinishedCompactRev");

/**
 * restoreSnapshot builds a data dir from a snapshot file that an etcd-ts member started with the same
 * --name, --initial-cluster, --initial-cluster-token and --initial-advertise-peer-urls (and
 * --initial-cluster-state new) runs as a member of a new cluster holding the snapshot's data. The data dir
 * is built beside its final path and renamed into place at the end, so a failed restore leaves nothing.
 * Throws SnapshotFileError for a bad file, and Error for bad flags or an existing data dir.
 */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  const initial = parseInitialCluster(options.initialCluster, options.name, options.initialAdvertisePeerUrls);
  const selfUrls = initial.get(options.name) ?? [];
  if ([...selfUrls].sort().join(",") !== [...options.initialAdvertisePeerUrls].sort().join(",")) {
    throw new Error(
      `--initial-cluster has ${options.name}=${selfUrls.join(",")} but --initial-advertise-peer-urls is ${options.initialAdvertisePeerUrls.join(",")}`,
    );
  }
  const members: MemberInfo[] = [...initial]
    .map(([name, peerUrls]) => ({
      id: memberIdOf(peerUrls, options.initialClusterToken),
      name,
      peerUrls,
      clientUrls: [],
      isLearner: false,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const self = members.find((m) => m.name === options.name) as MemberInfo;
  const clusterId = clusterIdOf(members.map((m) => m.id));

  for (const dir of [options.dataDir, options.walDir ?? ""]) {
    if (dir !== "" && fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw new Error(`data-dir ${JSON.stringify(dir)} exists and is not empty`);
    }
  }

  // The file is read page by page (positional reads), so its size is not bounded by memory.
  const fd = fs.openSync(options.snapshotPath, "r");
  try {
    const dbBytes = checkSnapshotFileHash(fd, options.skipHashCheck ?? false);
    const root = BoltDb.open(fileSource(fd, dbBytes)).root();
    return await seed(options, root, self, clusterId, members);
  } finally {
    fs.closeSync(fd);
  }
}

/** seed writes the backend and the WAL into a staging dir beside the data dir, then renames it into place. */
async function seed(
  options: RestoreOptions,
  root: BoltBucketView,
  self: MemberInfo,
  clusterId: bigint,
  members: MemberInfo[],
): Promise<RestoreResult> {
  const bucket = (name: string) => root.bucket(name);
  const dataDir = path.resolve(options.dataDir);
  const staging = `${dataDir}.restoring-${process.pid}`;
  await fs.promises.rm(staging, { recursive: true, force: true });
  const snapDir = path.join(staging, "member", "snap");
  await fs.promises.mkdir(snapDir, { recursive: true, mode: 0o700 });
  try {
    const backend = new Backend(path.join(snapDir, "db"));
    await backend.open();
    let result: Omit<RestoreResult, "memberId" | "clusterId" | "members">;
    try {
      result = await copyBuckets(backend, bucket, options.onProgress);
    } finally {
      await backend.close();
    }

    const walDir =
      options.walDir === undefined || options.walDir === ""
        ? path.join(staging, "member", "wal")
        : path.resolve(options.walDir);
    const wal = await Wal.create(walDir, { memberId: self.id, clusterId });
    try {
      const entries: Entry[] = members.map((member, i) => ({
        term: 1,
        index: i + 1,
        type: EntryType.ConfChange,
        data: encodeConfChange({
          id: 0n,
          type: ConfChangeType.AddNode,
          nodeId: member.id,
          context: encodeMember(member),
        }),
      }));
      await wal.save({ term: 1, vote: 0n, commit: entries.length }, entries);
    } finally {
      await wal.close();
    }

    if (fs.existsSync(dataDir)) await fs.promises.rmdir(dataDir); // checked empty above
    await fs.promises.rename(staging, dataDir);
    return { ...result, memberId: self.id, clusterId, members };
  } catch (err) {
    await fs.promises.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** copyBuckets copies etcd's buckets into the backend's sublevels, in batches. */
async function copyBuckets(
  backend: Backend,
  bucket: (name: string) => BoltBucketView | undefined,
  onProgress: ((progress: RestoreProgress) => void) | undefined,
): Promise<Omit<RestoreResult, "memberId" | "clusterId" | "members">> {
  const keyBucket = bucket("key");
  if (keyBucket === undefined) throw new SnapshotFileError("snapshot has no key bucket: not an etcd backend");
  const parts = ["key", "meta", "lease", "auth", "authUsers", "authRoles"].map((name) => bucket(name));
  const total = parts.reduce((n, b) => n + (b?.count() ?? 0), 0);
  let done = 0;
  let write: BackendWrite = backend.write();
  const step = async () => {
    done++;
    if (done % PROGRESS_EVERY === 0) onProgress?.({ done, total });
    if (write.size >= BATCH_ENTRIES) {
      await write.commit();
      write = backend.write();
    }
  };

  let revision = 0n;
  let revisions = 0;
  for (const [key, value] of keyBucket.entries()) {
    checkRevisionKey(key);
    try {
      fromBinary(KeyValueSchema, value);
    } catch {
      throw new SnapshotFileError(
        `key bucket: the value at revision ${mainOf(key)} is not a mvccpb.KeyValue`,
      );
    }
    // `write` may be replaced by step(): scope each put to the current one.
    write.scoped("kv").put(key, value);
    revision = mainOf(key);
    revisions++;
    await step();
  }

  let compactRevision = 0n;
  for (const [key, value] of bucket("meta")?.entries() ?? []) {
    const name = Buffer.from(key).toString("latin1");
    if (name === "scheduledCompactRev" || name === "finishedCompactRev") {
      checkRevisionKey(value);
      const main = mainOf(value);
      if (name === "scheduledCompactRev") compactRevision = main;
      write
        .scoped("kv")
        .put(name === "scheduledCompactRev" ? scheduledCompactKey : finishedCompactKey, latin1(String(main)));
    }
    // consistent_index and term belong to the old cluster's raft log: the new member starts from 0.
    await step();
  }

  let leases = 0;
  for (const [key, value] of bucket("lease")?.entries() ?? []) {
    if (key.length !== 8) throw new SnapshotFileError("lease bucket: a lease id is 8 bytes");
    const lease = decodeLeasePb(value);
    const id = new DataView(key.buffer, key.byteOffset, 8).getBigInt64(0);
    if (lease.id !== id) throw new SnapshotFileError(`lease bucket: lease ${id} is stored under another id`);
    write.scoped("lease").put(
      encodeLeaseKey(id as LeaseId),
      encodeLeaseValue({
        id: id as LeaseId,
        ttlSeconds: safeNumber(lease.ttl, "lease TTL"),
        remainingTtlSeconds: safeNumber(lease.remainingTtl, "lease remaining TTL"),
      }),
    );
    leases++;
    await step();
  }

  for (const [key, value] of bucket("auth")?.entries() ?? []) {
    const name = Buffer.from(key).toString("latin1");
    if (name === "authEnabled") {
      if (value.length !== 1 || (value[0] !== 0 && value[0] !== 1)) {
        throw new SnapshotFileError("auth bucket: authEnabled is not 0 or 1");
      }
      write.scoped("auth").put(utf8.encode("m/enabled"), Uint8Array.from(value));
    } else if (name === "authRevision") {
      if (value.length !== 8) throw new SnapshotFileError("auth bucket: authRevision is not 8 bytes");
      write.scoped("auth").put(utf8.encode("m/revision"), value);
    }
    await step();
  }

  let users = 0;
  for (const [key, value] of bucket("authUsers")?.entries() ?? []) {
    checkNamed(key, value, "authUsers", (v) => fromBinary(UserSchema, v).name);
    write.scoped("auth").put(prefixed("u/", key), value);
    users++;
    await step();
  }
  let roles = 0;
  for (const [key, value] of bucket("authRoles")?.entries() ?? []) {
    checkNamed(key, value, "authRoles", (v) => fromBinary(RoleSchema, v).name);
    write.scoped("auth").put(prefixed("r/", key), value);
    roles++;
    await step();
  }

  await write.commit(true);
  onProgress?.({ done, total });
  return { revision, compactRevision, revisions, leases, users, roles };
}

/** checkRevisionKey accepts etcd's revision keys: main (8 bytes), '_', sub (8 bytes), and 't' for a tombstone. */
function checkRevisionKey(key: Uint8Array): void {
  const ok =
    (key.length === 17 || (key.length === 18 && key[17] === 0x74)) &&
    key[8] === 0x5f &&
    mainOf(key) <= BigInt(Number.MAX_SAFE_INTEGER);
  if (!ok)
    throw new SnapshotFileError(`key bucket: ${Buffer.from(key).toString("hex")} is not a revision key`);
}

function mainOf(revisionKey: Uint8Array): bigint {
  return new DataView(revisionKey.buffer, revisionKey.byteOffset, 8).getBigUint64(0);
}

function prefixed(prefix: string, name: Uint8Array): Uint8Array {
  return Buffer.concat([utf8.encode(prefix), name]);
}

/** checkNamed checks an authUsers/authRoles record parses and is stored under its own UTF-8 name. */
function checkNamed(
  key: Uint8Array,
  value: Uint8Array,
  bucket: string,
  nameOf: (value: Uint8Array) => Uint8Array,
): void {
  let name: Uint8Array;
  try {
    decoder.decode(key);
    name = nameOf(value);
  } catch {
    throw new SnapshotFileError(
      `${bucket}: the record under ${JSON.stringify(Buffer.from(key).toString())} is malformed`,
    );
  }
  if (!Buffer.from(name).equals(key)) {
    throw new SnapshotFileError(`${bucket}: a record is stored under another name`);
  }
}

function safeNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SnapshotFileError(`lease bucket: ${what} ${value} out of range`);
  }
  return Number(value);
}

/** decodeLeasePb reads leasepb.Lease { int64 ID = 1; int64 TTL = 2; int64 RemainingTTL = 3 }. */
function decodeLeasePb(bytes: Uint8Array): { id: bigint; ttl: bigint; remainingTtl: bigint } {
  const out = { id: 0n, ttl: 0n, remainingTtl: 0n };
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = bytes[at++];
      if (b === undefined) throw new SnapshotFileError("lease bucket: truncated leasepb.Lease");
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, value);
    }
    throw new SnapshotFileError("lease bucket: varint too long in leasepb.Lease");
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    if ((tag & 7) !== 0) throw new SnapshotFileError("lease bucket: unexpected wire type in leasepb.Lease");
    const value = varint();
    if (field === 1) out.id = value;
    else if (field === 2) out.ttl = value;
    else if (field === 3) out.remainingTtl = value;
  }
  return out;
}
