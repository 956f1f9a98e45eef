// The cluster mode of tools/compat (`node run.mjs --cluster`): the steps of cluster-steps.mjs against a
// 3-member real etcd and a 3-member etcd-ts, both started with tools/cluster, in lockstep, normalised by
// cluster-normalize.mjs and diffed like the single-member run.
//
// `--cluster=etcd` compares a real etcd cluster with a second real etcd cluster instead: a self-check of the
// scenario and of the normalisation, which must find zero differences too.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseMemberAddOutput, startCluster } from "../cluster/index.mjs";
import { normalizeClusterOutput } from "./cluster-normalize.mjs";
import { clusterSteps } from "./cluster-steps.mjs";
import { runEtcdctl, tokenize } from "./etcdctl.mjs";
import { lineDiff } from "./line-diff.mjs";

/** Pause between the attempts of a step with retry/until. */
const RETRY_INTERVAL_MS = 300;
/** How long a started member may take to publish its name (member list: "started"). */
const PUBLISH_TIMEOUT_MS = 15_000;
/** How long a `leader` step may take to make its member the leader. */
const LEADER_TIMEOUT_MS = 15_000;

/**
 * @typedef {import("./cluster-steps.mjs").ClusterStep} ClusterStep
 * @typedef {import("./etcdctl.mjs").Outcome} Outcome
 * @typedef {import("./cluster-normalize.mjs").ClusterFacts} ClusterFacts
 * @typedef {import("../cluster/index.mjs").Cluster} Cluster
 */

/**
 * @typedef {object} ClusterRunOptions
 * @property {string} etcd
 * @property {string} etcdctl
 * @property {string} server          etcd-ts main.js
 * @property {"etcd" | "etcd-ts"} against  what the reference etcd cluster is compared with
 * @property {boolean} keep
 * @property {boolean} verbose
 * @property {boolean} dump
 */

/**
 * ClusterSide is one cluster under test and what the steps learn about it.
 * @typedef {object} ClusterSide
 * @property {string} label
 * @property {Cluster} cluster
 * @property {ClusterFacts} facts
 * @property {Map<string, string>} vars      ID_<name>, PEER_<name>, CLIENT_<name>, ADD_<name>
 */

/**
 * runClusterCompat runs the cluster scenario and exits the process: 0 without differences, 1 otherwise.
 * @param {ClusterRunOptions} opts
 * @returns {Promise<never>}
 */
export async function runClusterCompat(opts) {
  checkSteps();
  const started = Date.now();
  const runDir = mkdtempSync(join(tmpdir(), "etcd-compat-cluster-"));
  const otherLabel = opts.against === "etcd-ts" ? "etcd-ts" : "etcd (second cluster)";
  const header = [
    `compat --cluster: 3-member etcd vs 3-member ${otherLabel}`,
    ...(opts.against === "etcd"
      ? ["compat --cluster: self-check only (real etcd on both sides); --cluster alone compares with etcd-ts"]
      : []),
  ];
  process.stdout.write(`${header.join("\n")}\n`);
  /** @type {ClusterSide[]} */
  let sides = [];
  /** @type {Cluster[]} */
  const clusters = [];
  const cleanup = async () => {
    await Promise.all(clusters.map((c) => c.stop("SIGKILL")));
  };
  const onSignal = () => {
    void cleanup().then(() => process.exit(1));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  /** @type {{index: number, title: string, note?: string, knownDifference?: string, expected: string, actual: string, rawExpected: string, rawActual: string}[]} */
  const results = [];
  /** @type {string[]} */
  const dumped = [];
  let compared = 0;
  try {
    const kinds = /** @type {const} */ ([
      ["etcd", "etcd"],
      [opts.against === "etcd-ts" ? "etcd-ts" : "etcd-b", opts.against],
    ]);
    const started2 = await Promise.allSettled(
      kinds.map(([label, kind]) => {
        const baseDir = join(runDir, label);
        mkdirSync(baseDir, { recursive: true });
        return startCluster({
          kind,
          size: 3,
          baseDir,
          etcdBin: opts.etcd,
          etcdctlBin: opts.etcdctl,
          etcdTsMain: opts.server,
          logLevel: "warn",
        }).then((c) => {
          clusters.push(c);
          return c;
        });
      }),
    );
    for (const r of started2) if (r.status === "rejected") throw r.reason;
    sides = await Promise.all(
      started2.map(async (r, i) => {
        const cluster = /** @type {PromiseFulfilledResult<Cluster>} */ (r).value;
        return sideOf(kinds[i]?.[0] ?? "?", cluster, runDir, opts.etcdctl);
      }),
    );
    const [a, b] = /** @type {[ClusterSide, ClusterSide]} */ (sides);
    for (const [i, step] of clusterSteps.entries()) {
      const title = titleOf(step);
      /** @type {(Outcome | undefined)[]} */
      let outcomes;
      /** wall time of the step on each side, for --verbose */
      const ms = [0, 0];
      try {
        outcomes = await Promise.all(
          [a, b].map(async (side, k) => {
            const t0 = Date.now();
            const outcome = await runStep(step, side, opts);
            ms[k] = Date.now() - t0;
            return outcome;
          }),
        );
      } catch (err) {
        throw new Error(`step ${i + 1} (${title}): ${/** @type {Error} */ (err).message}`);
      }
      const [oa, ob] = outcomes;
      if (oa === undefined || ob === undefined) {
        if (opts.verbose) process.stdout.write(`     ${i + 1} ${title}   (${ms[0]} ms | ${ms[1]} ms)\n`);
        continue;
      }
      compared++;
      const expected = render(normalized(oa, a), step);
      const actual = render(normalized(ob, b), step);
      if (opts.verbose) {
        const verdict = expected === actual ? "ok  " : "DIFF";
        process.stdout.write(`${verdict} ${i + 1} ${title}   (${ms[0]} ms | ${ms[1]} ms)\n`);
      }
      const result = {
        index: i + 1,
        title,
        note: step.note,
        knownDifference: step.knownDifference,
        expected,
        actual,
        rawExpected: render(oa, step),
        rawActual: render(ob, step),
      };
      if (expected !== actual || step.knownDifference !== undefined) results.push(result);
      if (opts.dump) {
        dumped.push(
          `=== step ${i + 1}: ${title}${expected === actual ? "" : "   [DIFFERS]"}\n${indent(expected)}${expected === actual ? "" : `\n--- ${b.label}\n${indent(actual)}`}`,
        );
      }
    }
  } catch (err) {
    await cleanup();
    process.stderr.write(`compat --cluster: ${/** @type {Error} */ (err).message}\n`);
    process.stderr.write(`compat --cluster: member logs and data kept in ${runDir}\n`);
    process.exit(1);
  }
  await cleanup();

  const other = sides[1]?.label ?? otherLabel;
  const differing = results.filter((r) => r.knownDifference === undefined);
  const known = results.filter((r) => r.knownDifference !== undefined && r.expected !== r.actual);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  /** @param {(typeof results)[number]} r */
  const reportOf = (r) =>
    [
      "",
      `##### step ${r.index}: ${r.title}${r.note === undefined ? "" : `   (${r.note})`}`,
      ...(r.knownDifference === undefined ? [] : [`known difference: ${r.knownDifference}`]),
      "--- expected (etcd, normalised)",
      indent(r.expected),
      `--- got (${other}, normalised)`,
      indent(r.actual),
      `--- diff (- etcd, + ${other})`,
      indent(lineDiff(r.expected, r.actual)),
    ].join("\n");
  const body = [
    ...differing.map(reportOf),
    ...(known.length > 0
      ? ["", "##### known differences (do not fail the run)", ...known.map(reportOf)]
      : []),
  ];
  const summary = `compat --cluster: ${compared} steps compared in ${seconds} s, ${differing.length} differences, ${known.length} known`;
  const report = [...header, "", ...body, "", summary, ""].join("\n");
  const raw = differing
    .map(
      (r) =>
        `=== step ${r.index}: ${r.title} (raw)\n--- etcd\n${indent(r.rawExpected)}\n--- ${other}\n${indent(r.rawActual)}`,
    )
    .join("\n");
  const reportPath = join(
    tmpdir(),
    `etcd-compat-cluster-report-${new Date().toISOString().replace(/[:.]/g, "-")}.txt`,
  );
  const dumpSection = opts.dump ? `\n##### every step\n${dumped.join("\n")}\n` : "";
  writeFileSync(reportPath, `${report}\n##### raw outputs of differing steps\n${raw}\n${dumpSection}`);
  process.stdout.write(body.length > 0 ? report : `${summary}\n`);
  process.stdout.write(`compat --cluster: report written to ${reportPath}\n`);
  if (opts.keep || differing.length > 0) {
    process.stdout.write(`compat --cluster: member data and logs kept in ${runDir}\n`);
  } else {
    rmSync(runDir, { recursive: true, force: true });
  }
  process.exit(differing.length > 0 ? 1 : 0);
}

/**
 * sideOf learns a freshly started cluster's ids and addresses.
 * @param {string} label
 * @param {Cluster} cluster
 * @param {string} runDir
 * @param {string} etcdctl
 * @returns {Promise<ClusterSide>}
 */
async function sideOf(label, cluster, runDir, etcdctl) {
  const endpoints = cluster.endpoints;
  const list = await runEtcdctl(etcdctl, endpoints, ["member", "list", "-w", "json"], undefined);
  const clusterId = /"cluster_id":(\d+)/.exec(list.stdout)?.[1];
  if (clusterId === undefined)
    throw new Error(`${label}: member list gave no cluster id:\n${list.stdout}${list.stderr}`);
  const simple = await runEtcdctl(etcdctl, endpoints, ["member", "list"], undefined);
  /** @type {ClusterSide} */
  const side = {
    label,
    cluster,
    facts: { dir: cluster.baseDir, runDir, clusterId: BigInt(clusterId), ids: new Map(), ports: new Map() },
    vars: new Map(),
  };
  for (const line of simple.stdout.split("\n")) {
    const [id, , name] = line.split(", ");
    if (id === undefined || name === undefined || !/^[0-9a-f]+$/.test(id)) continue;
    side.facts.ids.set(BigInt(`0x${id}`), name);
    side.vars.set(`ID_${name}`, id);
  }
  for (const m of cluster.members) {
    if (!side.vars.has(`ID_${m.name}`))
      throw new Error(`${label}: ${m.name} is not in member list:\n${simple.stdout}`);
    learnMember(side, m.name, m.config.clientPort, m.config.peerPort, m.peerUrl);
  }
  return side;
}

/**
 * learnMember records a member's addresses for placeholders and normalisation.
 * @param {ClusterSide} side
 * @param {string} name
 * @param {number} clientPort
 * @param {number} peerPort   the port it listens on
 * @param {string} peerUrl    advertised
 */
function learnMember(side, name, clientPort, peerPort, peerUrl) {
  side.vars.set(`CLIENT_${name}`, `http://127.0.0.1:${clientPort}`);
  side.vars.set(`PEER_${name}`, peerUrl);
  side.facts.ports.set(clientPort, `<CLIENT-${name}>`);
  side.facts.ports.set(peerPort, `<PEER-${name}>`);
  const advertised = Number(new URL(peerUrl).port);
  if (advertised !== peerPort) side.facts.ports.set(advertised, `<PEER-${name}>`);
}

/**
 * checkSteps catches a placeholder no earlier step provides, before any member starts.
 */
function checkSteps() {
  const known = new Set(["infra1", "infra2", "infra3"]);
  const added = new Set();
  for (const [i, step] of clusterSteps.entries()) {
    for (const m of (step.run ?? "").matchAll(/\{(ID|PEER|CLIENT)_([\w-]+)\}/g)) {
      const name = m[2] ?? "";
      const ok = m[1] === "ID" ? known.has(name) || added.has(name) : known.has(name);
      if (!ok && !(m[1] === "ID" && name === "")) {
        throw new Error(`cluster-steps.mjs step ${i + 1} uses {${m[1]}_${name}} before a step provides it`);
      }
    }
    if (step.reserve !== undefined) known.add(step.reserve);
    const add = /^member add ([\w-]+)/.exec(step.run ?? "");
    if (add?.[1] !== undefined) added.add(add[1]);
    if (step.startMember !== undefined && !added.has(step.startMember))
      throw new Error(`cluster-steps.mjs step ${i + 1} starts ${step.startMember}, never added`);
  }
}

/** @param {ClusterStep} step */
function titleOf(step) {
  if (step.run !== undefined)
    return `etcdctl ${step.run}${step.on === undefined ? "" : `   [on ${step.on}]`}`;
  if (step.reserve !== undefined) return `reserve ports for ${step.reserve}`;
  if (step.startMember !== undefined)
    return `start ${step.startMember} with --initial-cluster-state existing (member add's output)`;
  if (step.stopMember !== undefined) return `stop ${step.stopMember}`;
  return `make ${step.leader} the leader`;
}

/**
 * expand fills in the placeholders of a step for one side.
 * @param {string} template
 * @param {ClusterSide} side
 */
function expand(template, side) {
  return template.replace(/\{([A-Za-z][\w-]*)\}/g, (_, name) => side.vars.get(name) ?? `missing-${name}`);
}

/**
 * endpointsOf returns the endpoint(s) a step runs against.
 * @param {ClusterStep} step
 * @param {ClusterSide} side
 */
function endpointsOf(step, side) {
  const on = step.on ?? "infra1";
  if (on === "all") return side.cluster.endpoints;
  return side.cluster.member(on).clientUrl;
}

/**
 * runStep runs one step against one side; undefined for steps that compare nothing.
 * @param {ClusterStep} step
 * @param {ClusterSide} side
 * @param {ClusterRunOptions} opts
 * @returns {Promise<Outcome | undefined>}
 */
async function runStep(step, side, opts) {
  const cluster = side.cluster;
  if (step.run !== undefined) {
    const args = tokenize(expand(step.run, side));
    const endpoints = endpointsOf(step, side);
    const deadline = Date.now() + (step.retry?.timeoutMs ?? step.until?.timeoutMs ?? 0);
    let outcome = await runEtcdctl(opts.etcdctl, endpoints, args, undefined);
    for (;;) {
      const text = outcome.stdout + outcome.stderr;
      const again =
        step.retry?.while.test(text) === true || (step.until !== undefined && !step.until.match.test(text));
      if (!again || Date.now() > deadline) break;
      await sleep(RETRY_INTERVAL_MS);
      outcome = await runEtcdctl(opts.etcdctl, endpoints, args, undefined);
    }
    const add = /^member add ([\w-]+)/.exec(expand(step.run, side));
    const id = /Member +([0-9a-f]+) added/.exec(outcome.stdout)?.[1];
    if (add?.[1] !== undefined && id !== undefined) {
      side.vars.set(`ID_${add[1]}`, id);
      side.vars.set(`ADD_${add[1]}`, outcome.stdout);
      side.facts.ids.set(BigInt(`0x${id}`), add[1]);
    }
    return outcome;
  }
  if (step.reserve !== undefined) {
    const r = await cluster.reserveMember(step.reserve);
    learnMember(side, r.name, r.clientPort, r.peerPort, r.peerUrl);
    return undefined;
  }
  if (step.startMember !== undefined) {
    const output = side.vars.get(`ADD_${step.startMember}`);
    if (output === undefined) return { stdout: "", stderr: `${step.startMember} was not added\n`, exit: "-" };
    try {
      await cluster.startAddedMember(parseMemberAddOutput(output), { readiness: "up" });
      // A new member answers on its client port a moment before it has published its name to the cluster
      // (member list shows it "unstarted" until then); wait for that, so that later steps do not race it.
      const deadline = Date.now() + PUBLISH_TIMEOUT_MS;
      for (;;) {
        const list = await runEtcdctl(
          opts.etcdctl,
          cluster.member("infra1").clientUrl,
          ["member", "list"],
          undefined,
        );
        if (list.stdout.includes(`, started, ${step.startMember}, `)) break;
        if (Date.now() > deadline) {
          return { stdout: "up, but member list still shows it unstarted\n", stderr: "", exit: "0" };
        }
        await sleep(RETRY_INTERVAL_MS);
      }
      return { stdout: "started\n", stderr: "", exit: "0" };
    } catch (err) {
      const first = /** @type {Error} */ (err).message.split("\n")[0] ?? "";
      return { stdout: "", stderr: `${first}\n`, exit: "failed" };
    }
  }
  if (step.stopMember !== undefined) {
    await cluster.member(step.stopMember).stop();
    return undefined;
  }
  if (step.leader !== undefined) {
    await makeLeader(side, step.leader, opts);
    return undefined;
  }
  throw new Error(`step of unknown kind: ${JSON.stringify(step)}`);
}

/**
 * makeLeader moves the leadership to `name` unless it leads already. A side that cannot is reported but not
 * stopped: the steps that depend on the leader will show the difference.
 * @param {ClusterSide} side
 * @param {string} name
 * @param {ClusterRunOptions} opts
 */
async function makeLeader(side, name, opts) {
  const deadline = Date.now() + LEADER_TIMEOUT_MS;
  const target = side.vars.get(`ID_${name}`) ?? "";
  for (;;) {
    const lead = await side.cluster.leader();
    if (lead?.name === name) return;
    if (Date.now() > deadline) {
      process.stderr.write(`compat --cluster: ${side.label}: could not make ${name} the leader\n`);
      return;
    }
    if (lead !== undefined)
      await runEtcdctl(opts.etcdctl, side.cluster.endpoints, ["move-leader", target], undefined);
    await sleep(RETRY_INTERVAL_MS);
  }
}

/**
 * normalized applies the cluster rules to both streams.
 * @param {Outcome} o
 * @param {ClusterSide} side
 * @returns {Outcome}
 */
function normalized(o, side) {
  return {
    stdout: normalizeClusterOutput(o.stdout, side.facts),
    stderr: normalizeClusterOutput(o.stderr, side.facts),
    exit: o.exit,
  };
}

/**
 * render turns an outcome into the compared text.
 * @param {Outcome} o
 * @param {ClusterStep} step
 */
function render(o, step) {
  const sortIf = (/** @type {string} */ s) => (step.sortLines ? s.split("\n").sort().join("\n") : s);
  return `[exit ${o.exit}]\n${sortIf(o.stdout)}\n[stderr]\n${sortIf(o.stderr)}`;
}

/** @param {string} text */
function indent(text) {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
