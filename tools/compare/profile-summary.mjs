#!/usr/bin/env node
// profile-summary: the top functions of a V8 .cpuprofile (from `node --cpu-prof`) by self time, and the
// share of time under each package (node_modules/<pkg>, node: internals, our packages), as plain text.
//
//   node tools/compare/profile-summary.mjs PROFILE.cpuprofile [--top 25]
import fs from "node:fs";

/**
 * summarizeProfile reads a V8 CPU profile and returns the busy time, the top functions by self time and the
 * self time grouped by where the code lives.
 * @param {string} file
 * @param {number} [top]
 */
export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(fs.readFileSync(file, "utf8"));
  /** @type {Map<number, any>} */
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const byFunction = new Map();
  const byArea = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    const frame = node.callFrame;
    total += us;
    if (frame.functionName === "(idle)" || frame.functionName === "(program)") {
      if (frame.functionName === "(idle)") idle += us;
    }
    const url = frame.url || "";
    const key = `${frame.functionName || "(anonymous)"} ${shortUrl(url)}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byArea.set(area(frame), (byArea.get(area(frame)) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us) => `${((us / busy) * 100).toFixed(1)}%`;
  const topFunctions = [...byFunction]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => ({ fn: k, ms: us / 1000, share: pct(us) }));
  const areas = [...byArea]
    .filter(([k]) => k !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .map(([k, us]) => ({ area: k, ms: us / 1000, share: pct(us) }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, topFunctions, areas };
}

function shortUrl(url) {
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length);
  const m = url.match(/(packages|apps)\/[^/]+\/.*$/);
  return m ? m[0] : url.replace(/^file:\/\//, "");
}

function area(frame) {
  const name = frame.functionName;
  if (name === "(idle)") return "(idle)";
  if (name === "(garbage collector)") return "GC";
  if (name === "(program)") return "(program: native, not attributed)";
  const url = frame.url || "";
  if (url === "") return "native/builtins";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const m = url.match(/(packages|apps)\/([^/]+)\//);
  return m ? `@etcd-ts/${m[2]}` : url;
}

/** formatSummary renders a summary as Markdown. */
export function formatSummary(summary) {
  let out = `busy ${summary.busyMs.toFixed(0)} ms (idle ${summary.idleMs.toFixed(0)} ms)\n\n`;
  out += "| where | self time | share of busy |\n|---|---:|---:|\n";
  for (const a of summary.areas.slice(0, 12)) out += `| ${a.area} | ${a.ms.toFixed(0)} ms | ${a.share} |\n`;
  out += "\n| function (self time) | ms | share of busy |\n|---|---:|---:|\n";
  for (const f of summary.topFunctions) out += `| \`${f.fn}\` | ${f.ms.toFixed(0)} | ${f.share} |\n`;
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: profile-summary.mjs PROFILE.cpuprofile [--top N]\n");
    process.exit(2);
  }
  const topIndex = process.argv.indexOf("--top");
  const top = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 25;
  process.stdout.write(formatSummary(summarizeProfile(file, top)));
}
