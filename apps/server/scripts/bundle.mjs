// Bundles the built member (dist/main.js and everything it imports from the workspace and npm) into one
// ES module, written over dist/main.js. A member starts whenever one is killed, replaced or upgraded, and
// Node spends most of an unbundled start resolving and loading a few hundred modules: one file halves the
// CPU a start takes (see docs/decisions.md). The unbundled tsc output stays beside it as main.unbundled.js.
//
// Kept outside the bundle: classic-level (a native addon, loaded from node_modules) and what the code
// loads with createRequire (yaml), which resolve from this package's own dependencies. Code that finds
// files next to its own module breaks in a bundle: pino's transports (worker threads by path) are one such
// feature, unused here (logs go to pino.destination); do not add them without an esbuild plugin for pino.
import { copyFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const entry = join(dist, "main.js");
const unbundled = join(dist, "main.unbundled.js");

// tsc rewrites main.js on every build; a main.js that is already a bundle is left as it is.
const current = readFileSync(entry, "utf8");
if (current.includes(BUNDLE_MARK())) process.exit(0);
copyFileSync(entry, unbundled);

const out = join(dist, "main.bundle.tmp.js");
const result = await build({
  entryPoints: [unbundled],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: out,
  external: ["classic-level"],
  // CommonJS dependencies inside an ES module bundle need a real require for Node's built-in modules.
  banner: {
    js: `${BUNDLE_MARK()}\nimport { createRequire as __etcdTsCreateRequire } from "node:module";\nconst require = __etcdTsCreateRequire(import.meta.url);`,
  },
  logLevel: "warning",
  metafile: true,
});
const inputs = Object.keys(result.metafile.inputs).length;
const text = readFileSync(out, "utf8");
// The shebang of main.ts must stay the file's first line.
writeFileSync(out, text.startsWith("#!") ? text : `#!/usr/bin/env node\n${text}`, { mode: 0o755 });
renameSync(out, entry);
console.log(`bundled ${inputs} modules into dist/main.js (${(text.length / 1024 / 1024).toFixed(1)} MiB)`);

function BUNDLE_MARK() {
  return "// etcd-ts member bundle (apps/server/scripts/bundle.mjs)";
}
