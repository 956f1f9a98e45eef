/**
 * Command line runner of the seeded simulation:
 *   pnpm --filter @etcd-ts/raft sim -- --seeds N --start S --nodes 1|3|5 [--events E] [--hostile] [--trace]
 * Exits non-zero on the first failing seed, printing the command that replays it.
 */
import { runSeed } from "./simulation.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v)) throw new Error(`--${name} needs an integer`);
  return v;
}

const seeds = arg("seeds", 100);
const start = arg("start", 1);
const nodesArg = process.argv.includes("--nodes") ? [arg("nodes", 3)] : [3, 5];
const events = arg("events", process.argv.includes("--hostile") ? 10000 : 3000);
const trace = process.argv.includes("--trace");
const hostile = process.argv.includes("--hostile");
const t0 = performance.now();
let runs = 0;
let committed = 0;
for (const nodes of nodesArg) {
  for (let seed = start; seed < start + seeds; seed++) {
    const r = runSeed({ seed, nodes, events, trace, hostile });
    runs++;
    committed += r.committed;
    if (r.error !== undefined) {
      if (trace) console.log(r.trace.join("\n"));
      console.error(r.error);
      process.exit(1);
    }
  }
}
const secs = (performance.now() - t0) / 1000;
console.log(
  `${runs} runs (seeds ${start}..${start + seeds - 1}, nodes ${nodesArg.join(",")}) passed in ${secs.toFixed(1)} s; ${committed} entries committed`,
);
