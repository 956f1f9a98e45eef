#!/usr/bin/env node
// tools/compat: runs ONE list of Debian etcdctl (3.4) commands against a real etcd and against etcd-ts,
// both started here on 127.0.0.1 with free ports and their own data dirs, normalises what legitimately
// differs, and diffs every step (stdout, stderr, exit code). Zero differences is the bar.
//
//   node tools/compat/run.mjs [--etcd PATH] [--etcdctl PATH] [--server PATH/main.js] [--keep] [--verbose] [--dump]
//   node tools/compat/run.mjs --cluster[=etcd] [same options]     3-member clusters, see cluster-run.mjs
//
// --verbose prints one line per step; --dump adds every step's normalised output to the report file; --keep
// keeps the servers' data dirs and logs (the logs are kept anyway when a step differs).
// Exit code 0: no differences (known differences are reported apart); 1: differences or a setup failure.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runEtcdctl, startEtcdctl, stopBackground, tokenize } from "./etcdctl.mjs";
import { lineDiff } from "./line-diff.mjs";
import { LeaseRegistry, normalizeOutput } from "./normalize.mjs";
import { sleep, startServer, stopServer } from "./server-process.mjs";
import { steps } from "./steps.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..", "..");

/** Default wait for a background command's output in waitFor/stop steps. */
const DEFAULT_UNTIL_TIMEOUT_MS = 5_000;
/** After a stop step's condition is met, how long to keep collecting output before ending the command. */
const DEFAULT_SETTLE_MS = 200;

/**
 * @typedef {import("./steps.mjs").Step} Step
 * @typedef {import("./etcdctl.mjs").Outcome} Outcome
 * @typedef {import("./etcdctl.mjs").Background} Background
 * @typedef {import("./server-process.mjs").RunningServer} RunningServer
 * @typedef {import("./normalize.mjs").ServerFacts} ServerFacts
 */

/**
 * Side is one server under test with everything the steps accumulate against it.
 * @typedef {object} Side
 * @property {RunningServer} server
 * @property {ServerFacts} facts
 * @property {LeaseRegistry} leases
 * @property {Map<string, string>} vars          captures of earlier steps
 * @property {Map<string, Background>} background
 */

/**
 * @typedef {object} StepResult
 * @property {number} index        1-based position in the list
 * @property {string} title        the command as a user would type it
 * @property {string | undefined} note
 * @property {string | undefined} knownDifference
 * @property {string} expected     normalised etcd output
 * @property {string} actual       normalised etcd-ts output
 * @property {string} rawExpected
 * @property {string} rawActual
 */

function parseArgs() {
  const argv = process.argv.slice(2);
  const opts = {
    etcd: "etcd",
    etcdctl: "etcdctl",
    server: join(repoRoot, "apps", "server", "dist", "main.js"),
    keep: false,
    verbose: false,
    dump: false,
    /** @type {"etcd" | "etcd-ts" | undefined} cluster mode: what a 3-member etcd is compared with */
    cluster: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return /** @type {string} */ (v);
    };
    if (a === "--etcd") opts.etcd = value();
    else if (a === "--etcdctl") opts.etcdctl = value();
    else if (a === "--server") opts.server = resolve(value());
    else if (a === "--keep") opts.keep = true;
    else if (a === "--verbose" || a === "-v") opts.verbose = true;
    else if (a === "--dump") opts.dump = true;
    else if (a === "--cluster" || a === "--cluster=etcd-ts") opts.cluster = "etcd-ts";
    else if (a === "--cluster=etcd") opts.cluster = "etcd";
    else if (a === "--help" || a === "-h") {
      process.stdout.write(
        "usage: node tools/compat/run.mjs [--etcd PATH] [--etcdctl PATH] [--server PATH/main.js] [--keep] [--verbose] [--dump]\n" +
          "       node tools/compat/run.mjs --cluster[=etcd-ts|etcd] [same options]   (3-member clusters; =etcd: self-check, real etcd on both sides)\n",
      );
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return opts;
}

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`compat: ${message}\n`);
  process.exit(1);
}

/**
 * versionOf runs `<bin> <args>` and returns its first line, or fails the run with a clear message.
 * @param {string} bin
 * @param {string[]} args
 * @param {string} what
 */
function versionOf(bin, args, what) {
  try {
    return (
      execFileSync(bin, args, { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } }).split(
        "\n",
      )[0] ?? ""
    );
  } catch {
    return fail(
      `${what} not found or not runnable (${bin}). Install Debian's etcd-server and etcd-client (3.4), e.g. ` +
        "`apt-get install etcd-server etcd-client`, or pass --etcd/--etcdctl.",
    );
  }
}

/**
 * expand replaces {NAME} with the side's captured variables, {dir} with its scratch dir and {endpoint} with
 * its "127.0.0.1:<port>".
 * @param {string} template
 * @param {Side} side
 */
function expand(template, side) {
  return template.replace(/\{([A-Za-z][A-Za-z0-9_]*)\}/g, (_, name) => {
    if (name === "dir") return side.server.dir;
    if (name === "endpoint") return side.server.endpoint;
    // A capture that failed on one server (its output differed) must not stop the run: the placeholder makes
    // the later step fail visibly on that server instead.
    return side.vars.get(name) ?? `missing-${name}`;
  });
}

/**
 * stdinOf builds the bytes a step feeds to etcdctl.
 * @param {Step} step
 * @param {Side} side
 */
function stdinOf(step, side) {
  if (step.stdin === undefined) return undefined;
  if (typeof step.stdin === "string") return Buffer.from(expand(step.stdin, side));
  return Buffer.alloc(step.stdin.bytes, step.stdin.repeat);
}

/**
 * checkSteps catches mistakes in the list before any server starts: a {NAME} that no earlier step captures,
 * a stop or waitFor of a background id that was never started.
 */
function checkSteps() {
  const captured = new Set(["dir", "endpoint"]);
  const started = new Set();
  for (const [i, step] of steps.entries()) {
    const texts = [step.run, step.start, typeof step.stdin === "string" ? step.stdin : undefined];
    for (const text of texts) {
      for (const m of (text ?? "").matchAll(/\{([A-Za-z][A-Za-z0-9_]*)\}/g)) {
        if (!captured.has(m[1] ?? ""))
          fail(`steps.mjs step ${i + 1} uses {${m[1]}} before any step captures it`);
      }
    }
    for (const name of Object.keys(step.capture ?? {})) captured.add(name);
    if (step.start !== undefined) started.add(step.id ?? step.start);
    const ref = step.stop ?? step.waitFor;
    if (ref !== undefined && !started.has(ref))
      fail(`steps.mjs step ${i + 1} refers to [${ref}], never started`);
  }
}

/** @param {Step} step */
function titleOf(step) {
  if (step.run !== undefined) return `etcdctl ${step.run}`;
  if (step.start !== undefined) return `etcdctl ${step.start} &  [${step.id}]`;
  if (step.stop !== undefined)
    return `output of [${step.stop}] after ${describeUntil(step)}, then ${step.signal ?? "SIGTERM"}`;
  if (step.waitFor !== undefined) return `wait for [${step.waitFor}]: ${describeUntil(step)}`;
  return `sleep ${step.sleepMs} ms`;
}

/** @param {Step} step */
function describeUntil(step) {
  return step.until?.lines !== undefined ? `${step.until.lines} lines` : "its output";
}

/**
 * waitUntil polls a background command until it printed `until.lines` lines, exited, or timed out.
 * @param {Background} bg
 * @param {import("./steps.mjs").Until | undefined} until
 * @returns {Promise<boolean>} whether the condition was reached
 */
async function waitUntil(bg, until) {
  const lines = until?.lines ?? 0;
  const deadline = Date.now() + (until?.timeoutMs ?? DEFAULT_UNTIL_TIMEOUT_MS);
  for (;;) {
    const printed = bg.stdout().split("\n").length - 1;
    if (printed >= lines) return true;
    if (!bg.running() || Date.now() > deadline) return false;
    await sleep(25);
  }
}

/**
 * runStep runs one step against one side and returns its raw outcome, or undefined for steps that compare
 * nothing (start, sleep).
 * @param {Step} step
 * @param {Side} side
 * @param {{etcdctl: string}} opts
 * @returns {Promise<Outcome | undefined>}
 */
async function runStep(step, side, opts) {
  if (step.run !== undefined) {
    const outcome = await runEtcdctl(
      opts.etcdctl,
      side.server.endpoint,
      tokenize(expand(step.run, side)),
      stdinOf(step, side),
    );
    for (const [name, re] of Object.entries(step.capture ?? {})) {
      const m = re.exec(outcome.stdout);
      if (m?.[1] !== undefined) side.vars.set(name, m[1]);
    }
    return outcome;
  }
  if (step.start !== undefined) {
    const id = step.id ?? step.start;
    side.background.set(
      id,
      startEtcdctl(
        opts.etcdctl,
        side.server.endpoint,
        tokenize(expand(step.start, side)),
        stdinOf(step, side),
      ),
    );
    return undefined;
  }
  if (step.waitFor !== undefined) {
    const bg = side.background.get(step.waitFor);
    if (bg === undefined) throw new Error(`no background command [${step.waitFor}]`);
    const reached = await waitUntil(bg, step.until);
    return { stdout: reached ? "reached\n" : "timed out\n", stderr: "", exit: "" };
  }
  if (step.stop !== undefined) {
    const bg = side.background.get(step.stop);
    if (bg === undefined) throw new Error(`no background command [${step.stop}]`);
    if (await waitUntil(bg, step.until)) await sleep(step.until?.settleMs ?? DEFAULT_SETTLE_MS);
    side.background.delete(step.stop);
    return stopBackground(bg, step.signal ?? "SIGTERM");
  }
  await sleep(step.sleepMs ?? 0);
  return undefined;
}

/**
 * render turns an outcome into the text that is compared.
 * @param {Outcome} o
 * @param {Step} step
 */
function render(o, step) {
  const sortIf = (/** @type {string} */ s) => (step.sortLines ? s.split("\n").sort().join("\n") : s);
  return `[exit ${o.exit}]\n${sortIf(o.stdout)}\n[stderr]\n${sortIf(o.stderr)}`;
}

/**
 * factsOf asks the server for its member and cluster ids (the header of `endpoint status -w json`).
 * @param {RunningServer} server
 * @param {string} runDir
 * @param {string} etcdctl
 * @returns {Promise<ServerFacts>}
 */
async function factsOf(server, runDir, etcdctl) {
  const o = await runEtcdctl(etcdctl, server.endpoint, ["endpoint", "status", "-w", "json"], undefined);
  const cluster = /"cluster_id":(\d+)/.exec(o.stdout)?.[1];
  const member = /"member_id":(\d+)/.exec(o.stdout)?.[1];
  if (cluster === undefined || member === undefined) {
    throw new Error(`${server.label}: endpoint status gave no header ids:\n${o.stdout}${o.stderr}`);
  }
  return {
    endpoint: server.endpoint,
    clientPort: server.clientPort,
    peerPort: server.peerPort,
    dir: server.dir,
    runDir,
    memberId: BigInt(member),
    clusterId: BigInt(cluster),
  };
}

/**
 * QUOTA_BACKEND_BYTES is small so that two puts just under --max-request-bytes raise the NOSPACE alarm (the
 * second one). It must stay above max request bytes plus what the rest of the list writes: etcd checks the
 * quota before the request size, so a smaller quota would turn "request is too large" into NOSPACE.
 */
const QUOTA_BACKEND_BYTES = 2 * 1024 * 1024;

/**
 * commonFlags are the flags both servers understand.
 * @param {{name: string, dataDir: string, clientUrl: string, peerUrl: string}} o
 */
function commonFlags(o) {
  return [
    "--quota-backend-bytes",
    String(QUOTA_BACKEND_BYTES),
    "--name",
    o.name,
    "--data-dir",
    o.dataDir,
    "--listen-client-urls",
    o.clientUrl,
    "--advertise-client-urls",
    o.clientUrl,
    "--listen-peer-urls",
    o.peerUrl,
    "--initial-advertise-peer-urls",
    o.peerUrl,
  ];
}

/**
 * indent prefixes every line of a block for the report.
 * @param {string} text
 */
function indent(text) {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/**
 * reportOf renders one differing step.
 * @param {StepResult} r
 * @param {string} etcdVersion
 */
function reportOf(r, etcdVersion) {
  const lines = [`=== step ${r.index}: ${r.title}`];
  if (r.note !== undefined) lines.push(`    (${r.note})`);
  if (r.knownDifference !== undefined) lines.push(`    known difference: ${r.knownDifference}`);
  lines.push(`--- expected (${etcdVersion}, normalised)`, indent(r.expected));
  lines.push("--- got (etcd-ts, normalised)", indent(r.actual));
  lines.push("--- diff (- etcd, + etcd-ts)", indent(lineDiff(r.expected, r.actual)));
  return lines.join("\n");
}

async function main() {
  const opts = parseArgs();
  const etcdVersion = versionOf(opts.etcd, ["--version"], "etcd (Debian package etcd-server)");
  const etcdctlVersion = versionOf(opts.etcdctl, ["version"], "etcdctl (Debian package etcd-client)");
  if (opts.cluster !== undefined) {
    if (opts.cluster === "etcd-ts" && !existsSync(opts.server)) {
      fail(`etcd-ts server not built: ${opts.server} is missing. Run \`pnpm build\` at the repo root first.`);
    }
    const { runClusterCompat } = await import("./cluster-run.mjs");
    return runClusterCompat({ ...opts, against: opts.cluster });
  }
  checkSteps();
  if (!existsSync(opts.server)) {
    fail(`etcd-ts server not built: ${opts.server} is missing. Run \`pnpm build\` at the repo root first.`);
  }
  const runDir = mkdtempSync(join(tmpdir(), "etcd-compat-"));
  const started = Date.now();
  /** @type {RunningServer[]} */
  const servers = [];
  /** @type {Side[]} */
  let sides = [];
  const cleanup = async () => {
    for (const side of sides) {
      for (const bg of side.background.values()) await stopBackground(bg, "SIGKILL");
    }
    await Promise.all(servers.map((s) => stopServer(s)));
  };
  const onSignal = () => {
    void cleanup().then(() => process.exit(1));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  /** servers remembers each server as soon as it is up, so a failure of the other still stops it. */
  const track = (/** @type {RunningServer} */ s) => {
    servers.push(s);
    return s;
  };
  /** @type {StepResult[]} */
  const results = [];
  let compared = 0;
  /** @type {string[]} */
  const dumped = [];
  try {
    const [etcd, ts] = await Promise.all([
      startServer(
        {
          label: "etcd",
          command: opts.etcd,
          prefixArgs: [],
          flags: (o) => [
            ...commonFlags(o),
            "--initial-cluster",
            `${o.name}=${o.peerUrl}`,
            "--log-level",
            "warn",
          ],
        },
        runDir,
      ).then(track),
      startServer(
        {
          label: "etcd-ts",
          command: process.execPath,
          prefixArgs: [opts.server],
          flags: (o) => [...commonFlags(o), "--log-level", "warn"],
        },
        runDir,
      ).then(track),
    ]);
    sides = await Promise.all(
      [etcd, ts].map(async (server) => ({
        server,
        facts: await factsOf(server, runDir, opts.etcdctl),
        leases: new LeaseRegistry(),
        vars: new Map(),
        background: new Map(),
      })),
    );
    const [etcdSide, tsSide] = /** @type {[Side, Side]} */ (sides);
    for (const [i, step] of steps.entries()) {
      const title = titleOf(step);
      /** @type {[Outcome | undefined, Outcome | undefined]} */
      let outcomes;
      try {
        outcomes = /** @type {[Outcome | undefined, Outcome | undefined]} */ (
          await Promise.all([runStep(step, etcdSide, opts), runStep(step, tsSide, opts)])
        );
      } catch (err) {
        throw new Error(`step ${i + 1} (${title}): ${/** @type {Error} */ (err).message}`);
      }
      for (const side of sides) {
        const child = side.server.child;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `${side.server.label} exited during step ${i + 1} (${title}): code ${child.exitCode}, signal ${child.signalCode}; log ${side.server.logPath}:\n${logTail(side.server.logPath)}`,
          );
        }
      }
      const [a, b] = outcomes;
      if (a === undefined || b === undefined) continue;
      compared++;
      const rawExpected = render(a, step);
      const rawActual = render(b, step);
      const expected = render(normalizedOutcome(a, etcdSide, step), step);
      const actual = render(normalizedOutcome(b, tsSide, step), step);
      const result = {
        index: i + 1,
        title,
        note: step.note,
        knownDifference: step.knownDifference,
        expected,
        actual,
        rawExpected,
        rawActual,
      };
      if (opts.verbose)
        process.stdout.write(`${expected === actual ? "ok  " : "DIFF"} ${i + 1} ${result.title}\n`);
      if (expected !== actual || step.knownDifference !== undefined) results.push(result);
      if (opts.dump)
        dumped.push(
          `=== step ${result.index}: ${title}${expected === actual ? "" : "   [DIFFERS]"}\n${indent(expected)}${expected === actual ? "" : `\n--- etcd-ts\n${indent(actual)}`}`,
        );
    }
  } catch (err) {
    await cleanup();
    process.stderr.write(`compat: ${/** @type {Error} */ (err).message}\n`);
    process.stderr.write(`compat: server logs and data kept in ${runDir}\n`);
    process.exit(1);
  }
  await cleanup();

  const differing = results.filter((r) => r.knownDifference === undefined);
  const known = results.filter((r) => r.knownDifference !== undefined && r.expected !== r.actual);
  const knownButEqual = results.filter((r) => r.knownDifference !== undefined && r.expected === r.actual);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const header = [
    `compat: ${etcdVersion} vs etcd-ts (${opts.server}), ${etcdctlVersion}`,
    `compat: ${steps.length} steps in the list, ${compared} compared, in ${seconds} s`,
  ];
  const body = [
    ...differing.map((r) => reportOf(r, etcdVersion)),
    ...(known.length > 0
      ? ["", "##### known differences (do not fail the run)", ...known.map((r) => reportOf(r, etcdVersion))]
      : []),
    ...knownButEqual.map(
      (r) => `note: step ${r.index} (${r.title}) is marked known-different but now matches; drop the mark`,
    ),
  ];
  const summary = `compat: ${compared} steps, ${differing.length} differences, ${known.length} known`;
  const report = [...header, "", ...body, "", summary, ""].join("\n");
  const rawSection = differing
    .map(
      (r) =>
        `=== step ${r.index}: ${r.title} (raw)\n--- etcd\n${indent(r.rawExpected)}\n--- etcd-ts\n${indent(r.rawActual)}`,
    )
    .join("\n");
  const reportPath = join(
    tmpdir(),
    `etcd-compat-report-${new Date().toISOString().replace(/[:.]/g, "-")}.txt`,
  );
  const dumpSection = opts.dump
    ? `\n##### every step (normalised etcd output; etcd-ts output where it differs)\n${dumped.join("\n")}\n`
    : "";
  writeFileSync(reportPath, `${report}\n##### raw outputs of differing steps\n${rawSection}\n${dumpSection}`);
  process.stdout.write(report);
  process.stdout.write(`compat: report written to ${reportPath}\n`);
  if (opts.keep) {
    process.stdout.write(`compat: server data and logs kept in ${runDir}\n`);
  } else if (differing.length > 0) {
    // The logs help with a difference; the data dirs (etcd preallocates 64 MiB WAL files) do not.
    for (const s of servers) rmSync(join(s.dir, "data"), { recursive: true, force: true });
    process.stdout.write(`compat: server logs kept in ${runDir}\n`);
  } else {
    rmSync(runDir, { recursive: true, force: true });
  }
  process.exit(differing.length > 0 ? 1 : 0);
}

/**
 * logTail returns the last lines of a server log for an error message.
 * @param {string} path
 */
function logTail(path) {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * normalizedOutcome normalises both streams of an outcome for one side.
 * @param {Outcome} o
 * @param {Side} side
 * @param {Step} step
 * @returns {Outcome}
 */
function normalizedOutcome(o, side, step) {
  const options = { ignoreHash: step.ignoreHash !== undefined };
  return {
    stdout: normalizeOutput(o.stdout, side.facts, side.leases, options),
    stderr: normalizeOutput(o.stderr, side.facts, side.leases, options),
    exit: o.exit,
  };
}

await main();
