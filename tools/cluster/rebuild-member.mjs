#!/usr/bin/env node
// rebuild-member: replace a damaged member with a fresh copy from its peers, in one command.
//
//   node tools/cluster/rebuild-member.mjs --endpoints http://127.0.0.1:2379 --name infra3 \
//     --data-dir infra3.etcd --peer-urls http://127.0.0.1:32380 --client-urls http://127.0.0.1:32379 \
//     [--print-only] [-- extra etcd-ts flags]
//
// Steps: find the member by name through the cluster's JSON gateway, remove it, move its data dir aside
// (never deleted), add it again with the same peer URLs, then start etcd-ts with
// --initial-cluster-state existing: it catches up from the leader (by snapshot when the log was compacted).
// Works against any member of the cluster; the damaged member itself need not be running (stop it first).

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const mainJs = path.resolve(here, "../../apps/server/dist/main.js");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    endpoints: { type: "string" },
    name: { type: "string" },
    "data-dir": { type: "string" },
    "peer-urls": { type: "string" },
    "client-urls": { type: "string" },
    "print-only": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

function usage(code) {
  process.stdout.write(
    "usage: rebuild-member.mjs --endpoints URL[,URL] --name NAME --data-dir DIR --peer-urls URL --client-urls URL [--print-only] [-- etcd-ts flags]\n",
  );
  process.exit(code);
}

if (values.help) usage(0);
for (const flag of ["endpoints", "name", "data-dir", "peer-urls", "client-urls"]) {
  if (values[flag] === undefined) {
    process.stderr.write(`rebuild-member: --${flag} is required\n`);
    usage(2);
  }
}

const endpoints = values.endpoints.split(",").map((e) => (e.includes("://") ? e : `http://${e}`));
const peerUrls = values["peer-urls"].split(",");

/** call posts to the first endpoint that answers (the JSON gateway of etcd-ts or etcd). */
async function call(route, body) {
  let lastError;
  for (const endpoint of endpoints) {
    try {
      const res = await fetch(`${endpoint}/v3/${route}`, {
        method: "POST",
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const json = await res.json();
      if (res.status !== 200) throw new Error(json.message ?? JSON.stringify(json));
      return json;
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`${route}: ${lastError?.message ?? lastError}`);
}

/**
 * reconfigure retries a membership change while etcd's strict reconfiguration check refuses it for now
 * (a voter connected for less than 5 s, or one that just went down still counted as connected).
 */
async function reconfigure(route, body) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(route, body);
    } catch (err) {
      if (attempt >= 30 || !/unhealthy cluster|not enough started/.test(err.message)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const list = await call("cluster/member/list", {});
const old = (list.members ?? []).find(
  (m) => m.name === values.name || (m.peerURLs ?? []).some((u) => peerUrls.includes(u)),
);
if (old !== undefined) {
  process.stdout.write(`removing member ${BigInt(old.ID).toString(16)} (${old.name || "unstarted"})\n`);
  await reconfigure("cluster/member/remove", { ID: old.ID });
}

const dataDir = path.resolve(values["data-dir"]);
if (fs.existsSync(dataDir)) {
  const aside = `${dataDir}.damaged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  fs.renameSync(dataDir, aside);
  process.stdout.write(`moved the old data dir to ${aside}\n`);
}

const added = await reconfigure("cluster/member/add", { peerURLs: peerUrls });
const newId = BigInt(added.member.ID).toString(16);
const initialCluster = added.members
  .flatMap((m) => {
    const name = m.ID === added.member.ID ? values.name : m.name;
    return name ? (m.peerURLs ?? []).map((u) => `${name}=${u}`) : [];
  })
  .join(",");
process.stdout.write(`added member ${newId}\n`);

const args = [
  mainJs,
  "--name",
  values.name,
  "--data-dir",
  dataDir,
  "--listen-client-urls",
  values["client-urls"],
  "--advertise-client-urls",
  values["client-urls"],
  "--listen-peer-urls",
  values["peer-urls"],
  "--initial-advertise-peer-urls",
  values["peer-urls"],
  "--initial-cluster",
  initialCluster,
  "--initial-cluster-state",
  "existing",
  ...positionals,
];
if (values["print-only"]) {
  process.stdout.write(`${[process.execPath, ...args].map((a) => JSON.stringify(a)).join(" ")}\n`);
  process.exit(0);
}
process.stdout.write(`starting ${values.name}: it catches up from the leader\n`);
const child = spawn(process.execPath, args, { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)));
