// Normalisation of etcdctl output: replaces what legitimately differs between two servers (member and
// cluster ids, lease ids, raft indexes, timings, database sizes, version strings, ports, temp paths, client
// log timestamps) with placeholders, so that what is left can be compared byte for byte.
//
// Revisions, raft terms, values, hashes of the key-value history and error texts are NOT normalised: both
// servers run the same steps in the same order, so they must agree on them.

/**
 * @typedef {object} ServerFacts
 * @property {string} endpoint     "127.0.0.1:<port>"
 * @property {number} clientPort
 * @property {number} peerPort
 * @property {string} dir          the server's scratch dir
 * @property {string} runDir       the run's temp dir
 * @property {bigint} memberId
 * @property {bigint} clusterId
 */

/** Lease ids shorter than this (in a given spelling) are not replaced globally: too likely to hit other text. */
const MIN_ID_TEXT_LENGTH = 6;

/**
 * LeaseRegistry names each lease id a server hands out by the order in which it was first seen
 * (<LEASE-1>, <LEASE-2>, ...). Both servers see their leases in the same step order, so the names agree.
 */
export class LeaseRegistry {
  constructor() {
    /** @type {Map<bigint, number>} */
    this.ordinals = new Map();
  }

  /** @param {bigint} id */
  register(id) {
    if (id === 0n) return;
    if (!this.ordinals.has(id)) this.ordinals.set(id, this.ordinals.size + 1);
  }

  /**
   * learn finds lease ids in raw etcdctl output by the places etcdctl prints them.
   * @param {string} text
   */
  learn(text) {
    for (const m of text.matchAll(
      /\blease ([0-9a-f]+) (?:granted|keepalived|revoked|expired|already expired)/g,
    )) {
      this.register(BigInt(`0x${m[1]}`));
    }
    // `lease list`: "found N leases" then one hex id per line.
    const list = /^found \d+ leases\n((?:[0-9a-f]+\n?)*)/m.exec(text);
    if (list?.[1]) {
      for (const line of list[1].split("\n")) if (line !== "") this.register(BigInt(`0x${line}`));
    }
    // `lease list -w json`: "leases":[{"id":N},...], as the plain list above. A lease whose id no command
    // printed is named here, in the list's order (etcd sorts it by expiry), so both servers' lists agree:
    // the session lease of an `elect -l` observer is still listed when the list comes less than its 60 s
    // TTL after the observer was stopped (on a fast enough machine), and no output ever shows its id.
    for (const leases of text.matchAll(/"leases":\[([^\]]*)\]/g)) {
      for (const m of (leases[1] ?? "").matchAll(/"id":(\d+)/g)) this.register(BigInt(m[1] ?? "0"));
    }
    // lock and election keys: "<name>/<lease id in hex>".
    for (const m of text.matchAll(/^(?:[A-Za-z][\w.-]*)\/([0-9a-f]{6,16})$/gm))
      this.register(BigInt(`0x${m[1]}`));
    // JSON and fields output: lease ids in decimal.
    for (const m of text.matchAll(/"(?:lease|ID|Lease)" ?: ?(\d+)/g)) this.register(BigInt(m[1] ?? "0"));
  }

  /**
   * replace swaps every known lease id (hex, zero-padded hex, decimal) for its name.
   * @param {string} text
   */
  replace(text) {
    let out = text;
    for (const [id, ordinal] of this.ordinals) {
      const name = `<LEASE-${ordinal}>`;
      out = replacePadded(out, id, name);
      for (const spelling of idSpellings(id)) out = replaceWord(out, spelling, name);
    }
    return out;
  }
}

/**
 * idSpellings lists the ways etcdctl prints a 64-bit id: %x, %016x and decimal.
 * @param {bigint} id
 */
function idSpellings(id) {
  const hex = id.toString(16);
  const spellings = new Set([hex.padStart(16, "0"), hex, id.toString(10)]);
  return [...spellings].filter((s) => s.length >= MIN_ID_TEXT_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * replacePadded replaces the %16x spelling of an id (etcdctl's `Member %16x added to cluster %16x`): an id
 * with fewer than 16 hex digits is padded with spaces, so the two servers' lines would differ in the count of
 * spaces before the placeholder. The padding is taken only after a single separating space, so that
 * a two-space separator in front of an unpadded id is left alone.
 * @param {string} text
 * @param {bigint} id
 * @param {string} name
 */
function replacePadded(text, id, name) {
  const hex = id.toString(16);
  if (hex.length >= 16) return text;
  const re = new RegExp(`(?<=[^ \\n] ) {${16 - hex.length}}${hex}(?![0-9A-Za-z])`, "g");
  return text.replace(re, name);
}

/**
 * replaceWord replaces `word` where it is not part of a longer run of letters or digits.
 * @param {string} text
 * @param {string} word
 * @param {string} replacement
 */
function replaceWord(text, word, replacement) {
  const re = new RegExp(`(?<![0-9A-Za-z])${escapeRegExp(word)}(?![0-9A-Za-z])`, "g");
  return text.replace(re, replacement);
}

/** @param {string} s */
function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Column normalisers of etcdctl's tables, by header. A column not listed is compared as it is.
 * @type {Record<string, (cell: string) => string>}
 */
const TABLE_COLUMNS = {
  VERSION: () => "<VERSION>",
  "DB SIZE": () => "<SIZE>",
  "RAFT INDEX": () => "<INDEX>",
  "RAFT APPLIED INDEX": () => "<INDEX>",
  TOOK: () => "<TOOK>",
  "TOTAL SIZE": () => "<SIZE>",
};

/**
 * normalizeOutput applies every rule to one stream of one step. It also learns the lease ids in it (after
 * member and cluster ids are gone, so those are never taken for leases).
 * @param {string} text raw output
 * @param {ServerFacts} facts
 * @param {LeaseRegistry} leases
 * @param {{ignoreHash?: boolean}} [options] ignoreHash: hashes (endpoint hashkv, snapshot status) become <HASH>
 */
export function normalizeOutput(text, facts, leases, options = {}) {
  let out = text;
  // Paths first: they contain the label of the server and would otherwise leak into later rules.
  out = out.split(facts.dir).join("<DIR>");
  out = out.split(facts.runDir).join("<RUN>");
  out = out.replace(new RegExp(`127\\.0\\.0\\.1:${facts.clientPort}(?!\\d)`, "g"), "<CLIENT>");
  out = out.replace(new RegExp(`127\\.0\\.0\\.1:${facts.peerPort}(?!\\d)`, "g"), "<PEER>");
  out = replaceId(out, facts.clusterId, "<CLUSTER-ID>");
  out = replaceId(out, facts.memberId, "<MEMBER-ID>");
  leases.learn(out);
  out = leases.replace(out);
  // etcdctl's own zap log lines (stderr): timestamps, client ids, durations, sizes.
  out = out.replace(/"ts":"[^"]*"/g, '"ts":"<TS>"');
  out = out.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ /gm, "<TIME> ");
  out = out.replace(/"ts":[0-9.e+]+/g, '"ts":"<TS>"');
  out = out.replace(/endpoint:\/\/client-[0-9a-f-]+\//g, "endpoint://client-<UUID>/");
  out = out.replace(/"took":(?:"[^"]*"|[0-9.e+-]+)/g, '"took":"<TOOK>"');
  out = out.replace(/"size":"[^"]*"/g, '"size":"<SIZE>"');
  out = out.replace(/"size":\d+/g, '"size":"<SIZE>"');
  // endpoint health
  out = out.replace(/took = [0-9.]+(?:ns|µs|us|ms|s|m)[0-9.a-zµ]*/g, "took = <TOOK>");
  // lease timetolive: the remaining seconds depend on when the command ran.
  out = out.replace(/remaining\(-?\d+s\)/g, "remaining(<TTL>s)");
  // endpoint status -w json / -w fields, member ids already replaced.
  out = out.replace(/"(version|Version)":"[^"]*"/g, '"$1":"<VERSION>"');
  out = out.replace(/"(dbSize|dbSizeInUse)":\d+/g, '"$1":"<SIZE>"');
  out = out.replace(/"(raftIndex|raftAppliedIndex|raft_index|raft_applied_index)":\d+/g, '"$1":"<INDEX>"');
  out = out.replace(/"(DBSize|DBSizeInUse)" : \d+/g, '"$1" : <SIZE>');
  out = out.replace(/"(RaftIndex|RaftAppliedIndex)" : \d+/g, '"$1" : <INDEX>');
  out = out.replace(/"Version" : "[^"]*"/g, '"Version" : "<VERSION>"');
  // endpoint status (simple): "ep, id, version, size, leader, learner, term, index, applied, errors"
  out = out.replace(
    /^((?:http:\/\/)?<CLIENT>, <MEMBER-ID>), [^,]+, [^,]+, (true|false), (true|false), (\d+), \d+, \d+, /gm,
    "$1, <VERSION>, <SIZE>, $2, $3, $4, <INDEX>, <INDEX>, ",
  );
  // lease timetolive -w json: "ttl" is the remaining time.
  out = out.replace(/"ttl":-?\d+/g, '"ttl":"<TTL>"');
  // lease timetolive --keys: etcd lists a lease's keys in Go map order, so only the set is comparable.
  out = out.replace(
    /attached keys\(\[([^\]]*)\]\)/g,
    (_, keys) => `attached keys([${sortedList(keys, " ")}])`,
  );
  out = out.replace(/"keys":\[([^\]]*)\]/g, (_, keys) => `"keys":[${sortedList(keys, ",")}]`);
  out = out.replace(/"totalSize":\d+/g, '"totalSize":"<SIZE>"');
  if (options.ignoreHash) {
    out = out.replace(/"hash":\d+/g, '"hash":"<HASH>"');
    out = out.replace(/^((?:http:\/\/)?<CLIENT>), \d+$/gm, "$1, <HASH>");
  }
  out = normalizeTables(out, options.ignoreHash ? { ...TABLE_COLUMNS, HASH: () => "<HASH>" } : TABLE_COLUMNS);
  return out;
}

/**
 * sortedList sorts the items of a separated list.
 * @param {string} list
 * @param {string} separator
 */
function sortedList(list, separator) {
  return list.split(separator).sort().join(separator);
}

/**
 * replaceId swaps a member or cluster id in its decimal, %x and %016x spellings.
 * @param {string} text
 * @param {bigint} id
 * @param {string} name
 */
function replaceId(text, id, name) {
  if (id === 0n) return text;
  let out = replacePadded(text, id, name);
  const hex = id.toString(16);
  for (const spelling of new Set([id.toString(10), hex.padStart(16, "0"), hex])) {
    out = replaceWord(out, spelling, name);
  }
  return out;
}

/**
 * normalizeTables finds etcdctl's ASCII tables, applies the column rules to their cells, and renders them
 * again with widths computed from the normalised cells, so that a shorter placeholder does not leave the
 * padding of the original value behind.
 * @param {string} text
 * @param {Record<string, (cell: string) => string>} columns
 */
export function normalizeTables(text, columns) {
  const lines = text.split("\n");
  /** @type {string[]} */
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (!/^\+[-+]+\+$/.test(line)) {
      out.push(line);
      i++;
      continue;
    }
    /** @type {string[][]} */
    const rows = [];
    /** @type {number[]} indexes in rows after which a border line stood */
    const borders = [];
    let j = i;
    while (j < lines.length) {
      const l = lines[j] ?? "";
      if (/^\+[-+]+\+$/.test(l)) {
        borders.push(rows.length);
      } else if (l.startsWith("|") && l.endsWith("|")) {
        rows.push(
          l
            .slice(1, -1)
            .split("|")
            .map((c) => c.trim()),
        );
      } else {
        break;
      }
      j++;
    }
    const header = rows[0] ?? [];
    for (const row of rows.slice(1)) {
      row.forEach((cell, k) => {
        const rule = columns[header[k] ?? ""];
        if (rule !== undefined) row[k] = rule(cell);
      });
    }
    const widths = header.map((_, k) => Math.max(...rows.map((r) => (r[k] ?? "").length)));
    const border = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
    rows.forEach((row, r) => {
      if (borders.includes(r)) out.push(border);
      out.push(`|${widths.map((w, k) => ` ${(row[k] ?? "").padEnd(w)} `).join("|")}|`);
    });
    if (borders.includes(rows.length)) out.push(border);
    i = j;
  }
  return out.join("\n");
}
