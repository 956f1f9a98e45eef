import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { compare } from "../compare.mjs";
import { renderMarkdown } from "../report.mjs";

test("compare --quick runs both systems end to end and renders the Markdown table", {
  timeout: 120_000,
}, async () => {
  const lines = [];
  const results = await compare({ quick: true, log: (l) => lines.push(l) });
  assert.equal(results.bySize.length, 1);
  assert.equal(results.bySize[0].size, 1);
  for (const row of results.bySize[0].rows) {
    for (const kind of ["etcd", "etcd-ts"]) {
      assert.ok(row[kind].throughput > 0, `${row.id} ${kind} throughput`);
      assert.equal(row[kind].errors, 0, `${row.id} ${kind} errors`);
      assert.ok(row[kind].p99Ms >= row[kind].p50Ms, `${row.id} ${kind} p99 >= p50`);
    }
  }
  assert.equal(results.keys.etcd.keys, 2000);
  assert.equal(results.keys["etcd-ts"].keys, 2000);
  assert.ok(results.keys["etcd-ts"].rssLoaded > 0);
  assert.ok(results.keys["etcd-ts"].readyMs > 0);

  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "compare-test-")), "benchmarks.md");
  fs.writeFileSync(out, renderMarkdown(results));
  const md = fs.readFileSync(out, "utf8");
  assert.match(md, /^# Benchmarks: etcd-ts and etcd on the same machine/);
  assert.match(md, /\| workload \| etcd \| etcd-ts \| etcd-ts \/ etcd \|/);
  for (const label of [
    "put, 1 client",
    "put, 256 clients",
    "range, linearizable",
    "range, serializable",
    "txn-put",
    "watch fan-out",
    "lease keep-alive",
  ]) {
    assert.ok(md.includes(`| ${label}`), `table row ${label}`);
  }
  assert.match(md, /\| RSS after loading \| \d+ MiB \| \d+ MiB \|/);
  assert.match(md, /nproc/);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
});
