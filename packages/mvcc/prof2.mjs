import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { PutRequestSchema, RangeRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { ClassicLevel } from "classic-level";
import { KvStore, levelBackend, sublevelBatch } from "/work/main/packages/mvcc/dist/index.js";

const dir = mkdtempSync(join(tmpdir(), "mvcc-prof-"));
const db = new ClassicLevel(dir, { keyEncoding: "view", valueEncoding: "view" });
const sub = db.sublevel("kv", { keyEncoding: "view", valueEncoding: "view" });
await db.open();
await sub.open();
const store = await KvStore.open({ backend: levelBackend(sub) });
const VALUE = new Uint8Array(256).fill(0x61);
const key = (i) => new TextEncoder().encode(`key-${String(i).padStart(8, "0")}`);
for (let start = 0; start < 50000; start += 2000) {
  const batch = db.batch();
  const scoped = sublevelBatch(batch, sub);
  for (let i = start; i < start + 2000; i++) {
    const w = await store.put(create(PutRequestSchema, { key: key(i), value: VALUE }), scoped);
    store.commit(w);
  }
  await batch.write();
}
const reqs = Array.from({ length: 50000 }, (_, i) =>
  create(RangeRequestSchema, { key: key((i * 7919) % 50000) }),
);
let t = performance.now();
for (const r of reqs) await store.range(r);
console.log("range", performance.now() - t);
t = performance.now();
for (let i = 0; i < 50000; i++) await sub.get(key(i));
console.log("raw sub.get", performance.now() - t);
