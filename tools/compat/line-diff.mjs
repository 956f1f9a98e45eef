// A small line diff (longest common subsequence) that prints "-" for lines only the reference server
// printed and "+" for lines only etcd-ts printed, with a little context around each change.

/** Outputs longer than this many lines are compared but shown only as a head of the diff. */
const MAX_DIFF_LINES = 400;
/** Unchanged lines kept around each change. */
const CONTEXT_LINES = 3;

/**
 * lineDiff returns a unified-style diff of two texts, or "" when they are equal.
 * @param {string} expected
 * @param {string} actual
 */
export function lineDiff(expected, actual) {
  if (expected === actual) return "";
  const a = expected.split("\n").slice(0, MAX_DIFF_LINES);
  const b = actual.split("\n").slice(0, MAX_DIFF_LINES);
  // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..]
  /** @type {number[][]} */
  const lcs = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = /** @type {number[]} */ (lcs[i]);
      const below = /** @type {number[]} */ (lcs[i + 1]);
      row[j] = a[i] === b[j] ? (below[j + 1] ?? 0) + 1 : Math.max(below[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  /** @type {{op: " " | "-" | "+", line: string}[]} */
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: " ", line: a[i] ?? "" });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      ops.push({ op: "-", line: a[i] ?? "" });
      i++;
    } else {
      ops.push({ op: "+", line: b[j] ?? "" });
      j++;
    }
  }
  const keep = ops.map(() => false);
  ops.forEach((o, k) => {
    if (o.op === " ") return;
    for (let c = Math.max(0, k - CONTEXT_LINES); c <= Math.min(ops.length - 1, k + CONTEXT_LINES); c++)
      keep[c] = true;
  });
  /** @type {string[]} */
  const out = [];
  let skipped = false;
  ops.forEach((o, k) => {
    if (!keep[k]) {
      if (!skipped) out.push("  ...");
      skipped = true;
      return;
    }
    skipped = false;
    out.push(`${o.op} ${o.line}`);
  });
  return out.join("\n");
}
