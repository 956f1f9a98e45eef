import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeLeaseKey, encodeLeaseValue, type LeaseId } from "@etcd-ts/lease";
import { RoleSchema, UserSchema } from "@etcd-ts/proto/authpb";
import { KeyValueSchema } from "@etcd-ts/proto/mvccpb";
import { ConfChangeType, decodeConfChange, EntryType } from "@etcd-ts/raft";
import { Wal } from "@etcd-ts/wal";
import { afterAll, describe, expect, it } from "vitest";
import { Backend, type SublevelName, sublevelNames } from "../backend.js";
import { clusterIdOf, decodeMember, encodeMember, memberIdOf, memberKey } from "../membership.js";
import { writeBoltFile } from "./bolt-file.js";
import { SnapshotFileError } from "./bolt-reader.js";
import { etcdBuckets } from "./etcd-layout.js";
import { type RestoreProgress, restoreSnapshot } from "./restore.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-restore-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const utf8 = new TextEncoder();
let dirs = 0;
const fresh = (name: string) => path.join(root, `${name}-${dirs++}`);

function revisionKey(main: number, sub = 0, tombstone = false): Uint8Array {
  const key = new Uint8Array(tombstone ? 18 : 17);
  const view = new DataView(key.buffer);
  view.setBigUint64(0, BigInt(main));
  key[8] = 0x5f;
  view.setBigUint64(9, BigInt(sub));
  if (tombstone) key[17] = 0x74;
  return key;
}

function kv(key: string, value: string, create_: number, mod: number, version: number, lease = 0n) {
  return toBinary(
    KeyValueSchema,
    create(KeyValueSchema, {
      key: utf8.encode(key),
      value: utf8.encode(value),
      createRevision: BigInt(create_),
      modRevision: BigInt(mod),
      version: BigInt(version),
      lease,
    }),
  );
}

/** sourceBackend fills a backend the way a running member would have: keys, a lease, auth, a member. */
async function sourceBackend(dir: string): Promise<Backend> {
  const backend = new Backend(path.join(dir, "db"));
  await backend.open();
  const w = backend.write();
  const k = w.scoped("kv");
  k.put(revisionKey(2), kv("a", "1", 2, 2, 1));
  k.put(revisionKey(3), kv("a", "2", 2, 3, 2));
  k.put(revisionKey(4), kv("leased", "x", 4, 4, 1, 0x1234n));
  k.put(revisionKey(5, 0, true), toBinary(KeyValueSchema, create(KeyValueSchema, { key: utf8.encode("a") })));
  k.put(Uint8Array.from(Buffer.from("\xffscheduledCompactRev", "latin1")), utf8.encode("3"));
  k.put(Uint8Array.from(Buffer.from("\xfffinishedCompactRev", "latin1")), utf8.encode("3"));
  w.scoped("lease").put(
    encodeLeaseKey(0x1234n as LeaseId),
    encodeLeaseValue({ id: 0x1234n as LeaseId, ttlSeconds: 600, remainingTtlSeconds: 0 }),
  );
  const a = w.scoped("auth");
  a.put(utf8.encode("m/enabled"), new Uint8Array([1]));
  a.put(utf8.encode("m/revision"), Buffer.from("0000000000000007", "hex"));
  a.put(
    utf8.encode("u/root"),
    toBinary(UserSchema, create(UserSchema, { name: utf8.encode("root"), roles: ["root"] })),
  );
  a.put(utf8.encode("r/root"), toBinary(RoleSchema, create(RoleSchema, { name: utf8.encode("root") })));
  const old = {
    id: 0xabcn,
    name: "old",
    peerUrls: ["http://10.0.0.1:2380"],
    clientUrls: [],
    isLearner: false,
  };
  w.scoped("members").put(memberKey(old.id), encodeMember(old));
  w.setConsistentIndex(42, 3);
  await w.commit();
  return backend;
}

async function snapshotFile(backend: Backend, file: string): Promise<Uint8Array> {
  const buckets = await backend.readConsistent((read) => etcdBuckets(read, "3.6.0"));
  const db = writeBoltFile(buckets);
  const bytes = Buffer.concat([db, createHash("sha256").update(db).digest()]);
  fs.writeFileSync(file, bytes);
  return bytes;
}

async function dumpSublevels(dbPath: string): Promise<Record<SublevelName, Array<[string, string]>>> {
  const backend = new Backend(dbPath);
  await backend.open();
  try {
    const out = {} as Record<SublevelName, Array<[string, string]>>;
    await backend.readConsistent(async (read) => {
      for (const name of sublevelNames) {
        out[name] = (await read(name)).map(([k, v]) => [
          Buffer.from(k).toString("hex"),
          Buffer.from(v).toString("hex"),
        ]);
      }
    });
    return out;
  } finally {
    await backend.close();
  }
}

describe("restoreSnapshot", () => {
  it("round-trips a member's backend through a snapshot file into a new cluster's data dir", async () => {
    const srcDir = fresh("src");
    fs.mkdirSync(srcDir);
    const source = await sourceBackend(srcDir);
    const file = path.join(root, "snap.db");
    await snapshotFile(source, file);
    await source.close();

    const dataDir = fresh("data");
    const progress: RestoreProgress[] = [];
    const peers = ["http://127.0.0.1:2380"];
    const result = await restoreSnapshot({
      snapshotPath: file,
      dataDir,
      name: "m1",
      initialCluster: "m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2381",
      initialClusterToken: "tok",
      initialAdvertisePeerUrls: peers,
      onProgress: (p) => progress.push(p),
    });
    const ids = [memberIdOf(peers, "tok"), memberIdOf(["http://127.0.0.1:2381"], "tok")];
    expect(result.memberId).toBe(ids[0]);
    expect(result.clusterId).toBe(clusterIdOf(ids));
    expect(result).toMatchObject({
      revision: 5n,
      compactRevision: 3n,
      revisions: 4,
      leases: 1,
      users: 1,
      roles: 1,
    });
    expect(progress.at(-1)).toEqual({ done: progress.at(-1)?.total, total: progress.at(-1)?.total });

    const before = await dumpSublevels(path.join(srcDir, "db"));
    const after = await dumpSublevels(path.join(dataDir, "member", "snap", "db"));
    // Data is copied as is; membership and the raft position start over.
    expect(after.kv).toEqual(before.kv);
    expect(after.lease).toEqual(before.lease);
    expect(after.auth).toEqual(before.auth);
    expect(after.members).toEqual([]);
    expect(after.meta).toEqual([]);

    // The WAL bootstraps the new members like `etcd-ts` does: committed AddNode entries at term 1.
    const walDir = path.join(dataDir, "member", "wal");
    const wal = await Wal.open(walDir, { index: 0, term: 0 });
    const recovered = await wal.readAll();
    await wal.close();
    expect(recovered.metadata).toEqual({ memberId: ids[0], clusterId: result.clusterId });
    expect(recovered.hardState).toEqual({ term: 1, vote: 0n, commit: 2 });
    expect(recovered.entries.map((e) => [e.index, e.term, e.type])).toEqual([
      [1, 1, EntryType.ConfChange],
      [2, 1, EntryType.ConfChange],
    ]);
    const added = recovered.entries.map((e) => decodeConfChange(e.data));
    expect(added.every((cc) => cc.type === ConfChangeType.AddNode)).toBe(true);
    expect(added.map((cc) => decodeMember(cc.context).name).sort()).toEqual(["m1", "m2"]);
    expect(fs.readdirSync(root).some((n) => n.includes(".restoring-"))).toBe(false);
  });

  it("refuses a corrupted file, a non-empty data dir and mismatched peer URLs, leaving nothing behind", async () => {
    const file = path.join(root, "plain.db");
    const db = writeBoltFile([
      { name: utf8.encode("key"), entries: [[revisionKey(2), kv("k", "v", 2, 2, 1)]] },
    ]);
    const good = Buffer.concat([db, createHash("sha256").update(db).digest()]);
    const bad = Buffer.from(good);
    bad[4096 * 3 + 100] = (bad[4096 * 3 + 100] as number) ^ 1;
    fs.writeFileSync(file, bad);
    const base = {
      snapshotPath: file,
      name: "default",
      initialCluster: "",
      initialClusterToken: "etcd-cluster",
      initialAdvertisePeerUrls: ["http://localhost:2380"],
    };
    const dataDir = fresh("bad");
    await expect(restoreSnapshot({ ...base, dataDir })).rejects.toThrow(/corrupted: expected sha256/);
    await expect(restoreSnapshot({ ...base, dataDir })).rejects.toBeInstanceOf(SnapshotFileError);
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(fs.readdirSync(root).some((n) => n.includes(".restoring-"))).toBe(false);

    fs.writeFileSync(file, db);
    await expect(restoreSnapshot({ ...base, dataDir })).rejects.toThrow(/missing hash/);
    expect((await restoreSnapshot({ ...base, dataDir, skipHashCheck: true })).revision).toBe(2n);
    await expect(restoreSnapshot({ ...base, dataDir, skipHashCheck: true })).rejects.toThrow(/is not empty/);
    await expect(
      restoreSnapshot({
        ...base,
        dataDir: fresh("urls"),
        skipHashCheck: true,
        initialCluster: "default=http://localhost:9999",
      }),
    ).rejects.toThrow(/--initial-advertise-peer-urls/);

    // A bbolt file that is not an etcd backend.
    fs.writeFileSync(file, writeBoltFile([{ name: utf8.encode("other"), entries: [] }]));
    await expect(restoreSnapshot({ ...base, dataDir: fresh("x"), skipHashCheck: true })).rejects.toThrow(
      /no key bucket/,
    );
  });
});
