import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { PutRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { ClassicLevel } from "classic-level";
import { KvStore, levelBackend, sublevelBatch } from "/work/main/packages/mvcc/dist/index.js";

const N = Number(process.env.N ?? 300000);
const dir = mkdtempSync(join(tmpdir(), "mvcc-prof-"));
let db = new ClassicLevel(dir, { keyEncoding: "view", valueEncoding: "view" });
let sub = db.sublevel("kv", { keyEncoding: "view", valueEncoding: "view" });
await db.open();
await sub.open();
const store = await KvStore.open({ backend: levelBackend(sub) });
const VALUE = new Uint8Array(256).fill(0x61);
const key = (i) => new TextEncoder().encode(`key-${String(i).padStart(8, "0")}`);
for (let start = 0; start < N; start += 2000) {
  const batch = db.batch();
  const scoped = sublevelBatch(batch, sub);
  for (let i = start; i < start + 2000; i++) {
    const w = await store.put(create(PutRequestSchema, { key: key(i), value: VALUE }), scoped);
    store.commit(w);
  }
  await batch.write();
}
await store.close();
await db.close();
db = new ClassicLevel(dir, { keyEncoding: "view", valueEncoding: "view" });
sub = db.sublevel("kv", { keyEncoding: "view", valueEncoding: "view" });
await db.open();
await sub.open();
const { Session } = await import("node:inspector/promises");
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.start");
const t = performance.now();
const s2 = await KvStore.open({ backend: levelBackend(sub) });
console.log("reopen", performance.now() - t, s2.keyCount);
const { profile } = await session.post("Profiler.stop");
(await import("node:fs")).writeFileSync("/tmp/reopen.cpuprofile", JSON.stringify(profile));
