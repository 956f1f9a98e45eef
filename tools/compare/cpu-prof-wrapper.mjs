#!/usr/bin/env node
// cpu-prof-wrapper: runs the etcd-ts server (apps/server/dist/main.js) as a child with `node --cpu-prof` (which
// NODE_OPTIONS does not allow), so tools/cluster can start a profiled member by using this file as its
// `etcdTsMain`. The profile goes to $COMPARE_CPU_PROF_DIR when the server exits; SIGTERM/SIGINT are passed on.
import { spawn } from "node:child_process";
import { ETCD_TS_MAIN } from "@etcd-ts/cluster";

const dir = process.env.COMPARE_CPU_PROF_DIR;
if (dir === undefined) {
  process.stderr.write("cpu-prof-wrapper: set COMPARE_CPU_PROF_DIR\n");
  process.exit(2);
}
const child = spawn(
  process.execPath,
  ["--cpu-prof", `--cpu-prof-dir=${dir}`, ETCD_TS_MAIN, ...process.argv.slice(2)],
  {
    stdio: "inherit",
  },
);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
