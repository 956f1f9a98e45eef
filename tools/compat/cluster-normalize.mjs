// Normalisation of etcdctl output for the cluster scenario: on top of the single-member rules of
// normalize.mjs, every member's id, client and peer address is named after the member (<ID-infra2>,
// <CLIENT-infra2>, <PEER-infra2>), raft terms are hidden (elections happen at their own pace in a real
// cluster), and lists that etcd orders by member id (which differ between two clusters) are sorted after the
// ids are replaced, so that they compare.

import { LeaseRegistry, normalizeOutput } from "./normalize.mjs";

/**
 * ClusterFacts is what one side knows about its cluster, filled in as the scenario goes.
 * @typedef {object} ClusterFacts
 * @property {string} dir                   the cluster's base dir
 * @property {string} runDir                the run's temp dir
 * @property {bigint} clusterId
 * @property {Map<bigint, string>} ids      member id -> member name
 * @property {Map<number, string>} ports    port -> "<CLIENT-name>" / "<PEER-name>"
 */

/** Ids shorter than this in some spelling are not replaced in that spelling: too likely to hit other text. */
const MIN_ID_TEXT_LENGTH = 6;

/** The error of etcdctl's retry log line for an attempt that its command timeout cut short. */
const DEADLINE_RETRY = '"error":"rpc error: code = DeadlineExceeded desc = context deadline exceeded"';

/** Table columns whose cells are hidden in cluster mode, on top of normalize.mjs's. */
const TERM_COLUMN = "RAFT TERM";

/**
 * normalizeClusterOutput applies every rule to one stream of one step.
 * @param {string} text raw output
 * @param {ClusterFacts} facts
 * @param {{ignoreHash?: boolean}} [options]
 */
export function normalizeClusterOutput(text, facts, options = {}) {
  let out = text;
  out = out.split(facts.dir).join("<DIR>");
  out = out.split(facts.runDir).join("<RUN>");
  for (const [port, name] of facts.ports) {
    out = out.replace(new RegExp(`127\\.0\\.0\\.1:${port}(?!\\d)`, "g"), name);
  }
  // Longer spellings first, so that a decimal id is not half-replaced by another id's hex spelling.
  /** @type {[string, string][]} */
  const spellings = [];
  for (const [id, name] of facts.ids) {
    for (const s of idSpellings(id)) spellings.push([s, `<ID-${name}>`]);
  }
  for (const s of idSpellings(facts.clusterId)) spellings.push([s, "<CLUSTER-ID>"]);
  spellings.sort((a, b) => b[0].length - a[0].length);
  for (const [spelling, name] of spellings) out = replaceWord(out, spelling, name);
  // etcdctl prints "Member %16x added to cluster %16x": the padding depends on the id's length.
  out = out.replace(/(Member|cluster) +</g, "$1 <");
  // member add: ETCD_INITIAL_CLUSTER lists the members in the server's order (by id).
  out = out.replace(
    /ETCD_INITIAL_CLUSTER="([^"]*)"/g,
    (_, list) => `ETCD_INITIAL_CLUSTER="${list.split(",").sort().join(",")}"`,
  );
  // Raft terms.
  out = out.replace(/"(raft_term|raftTerm)":\d+/g, '"$1":"<TERM>"');
  out = out.replace(/"(RaftTerm)" : \d+/g, '"$1" : <TERM>');
  // endpoint status (simple): "ep, id, version, size, leader, learner, term, index, applied, errors"
  out = out.replace(
    /^((?:http:\/\/)?<CLIENT-[\w-]+>, <ID-[\w-]+>), [^,]+, [^,]+, (true|false), (true|false), \d+, \d+, \d+, /gm,
    "$1, <VERSION>, <SIZE>, $2, $3, <TERM>, <INDEX>, <INDEX>, ",
  );
  // The single-member rules (durations, versions, sizes, raft indexes, tables), with no single member to name.
  out = normalizeOutput(
    out,
    {
      endpoint: "",
      clientPort: -1,
      peerPort: -1,
      dir: facts.dir,
      runDir: facts.runDir,
      memberId: 0n,
      clusterId: 0n,
    },
    new LeaseRegistry(),
    options,
  );
  // etcdctl retries a read that failed with Unavailable until its command timeout, logging each attempt: how
  // many attempts fit depends on timing, so equal retry lines collapse into one.
  // When the timeout ends the command, it may strike while an attempt is in flight (one more retry line,
  // "DeadlineExceeded") or during the backoff between two attempts (none): also timing, so that line goes.
  out = out.replace(/"attempt":\d+/g, '"attempt":"<N>"');
  const timedOut = /^Error: context deadline exceeded$/m.test(out);
  out = out
    .split("\n")
    .filter((line, i, all) => !(line.includes('"attempt":"<N>"') && line === all[i - 1]))
    .filter((line) => !(timedOut && line.includes('"attempt":"<N>"') && line.includes(DEADLINE_RETRY)))
    .join("\n");
  out = hideTableColumn(out, TERM_COLUMN, "<TERM>");
  out = sortTableRows(out);
  out = sortJsonMembers(out);
  out = sortJsonEndpoints(out);
  return out;
}

/**
 * idSpellings lists the ways etcdctl prints a 64-bit id: %x, %016x and decimal.
 * @param {bigint} id
 */
function idSpellings(id) {
  if (id === 0n) return [];
  const hex = id.toString(16);
  return [...new Set([hex.padStart(16, "0"), hex, id.toString(10)])].filter(
    (s) => s.length >= MIN_ID_TEXT_LENGTH,
  );
}

/**
 * replaceWord replaces `word` where it is not part of a longer run of letters or digits.
 * @param {string} text
 * @param {string} word
 * @param {string} replacement
 */
function replaceWord(text, word, replacement) {
  return text.replace(new RegExp(`(?<![0-9A-Za-z])${word}(?![0-9A-Za-z])`, "g"), replacement);
}

/**
 * tableRanges finds etcdctl's ASCII tables: [first line, last line] of each (borders included).
 * @param {string[]} lines
 * @returns {[number, number][]}
 */
function tableRanges(lines) {
  /** @type {[number, number][]} */
  const ranges = [];
  let i = 0;
  while (i < lines.length) {
    if (!/^\+[-+]+\+$/.test(lines[i] ?? "")) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < lines.length && /^[+|]/.test(lines[j + 1] ?? "")) j++;
    ranges.push([i, j]);
    i = j + 1;
  }
  return ranges;
}

/**
 * hideTableColumn replaces every body cell of the column called `header` with `value` (padding kept).
 * @param {string} text
 * @param {string} header
 * @param {string} value
 */
function hideTableColumn(text, header, value) {
  const lines = text.split("\n");
  for (const [first, last] of tableRanges(lines)) {
    const head = (lines[first + 1] ?? "").split("|");
    const k = head.findIndex((c) => c.trim() === header);
    if (k < 0) continue;
    const width = (head[k] ?? "").length;
    for (let r = first + 3; r < last; r++) {
      const cells = (lines[r] ?? "").split("|");
      if (cells.length !== head.length) continue;
      cells[k] = ` ${value.padEnd(width - 2)} `;
      lines[r] = cells.join("|");
    }
  }
  return lines.join("\n");
}

/**
 * sortTableRows sorts the body rows of every table: etcd orders members by id, and ids differ between two
 * clusters. Widths are already those of the normalised cells.
 * @param {string} text
 */
function sortTableRows(text) {
  const lines = text.split("\n");
  for (const [first, last] of tableRanges(lines)) {
    // +---+ header +---+ rows... +---+
    const body = lines.slice(first + 3, last).sort();
    lines.splice(first + 3, body.length, ...body);
  }
  return lines.join("\n");
}

/**
 * sortJsonMembers sorts the objects of `"members":[...]` (member list -w json); they are flat objects.
 * @param {string} text
 */
function sortJsonMembers(text) {
  // The members array ends its object; each member object starts with its "ID".
  return text.replace(/"members":\[(\{"ID".*\})\]\}$/gm, (_, items) => {
    const sorted = String(items)
      .split(/,(?=\{"ID")/)
      .sort();
    return `"members":[${sorted.join(",")}]}`;
  });
}

/**
 * sortJsonEndpoints sorts the top-level array of `endpoint status|health --cluster -w json`.
 * @param {string} text
 */
function sortJsonEndpoints(text) {
  return text.replace(/^\[(\{"Endpoint".*\})\]$/gm, (_, items) => {
    const sorted = String(items)
      .split(/,(?=\{"Endpoint")/)
      .sort();
    return `[${sorted.join(",")}]`;
  });
}
