import { assert } from "../assert.js";
import { etcdModel } from "../model/etcd-model.js";
import type { EtcdRequest, EtcdResponse } from "../model/etcd-types.js";
import { keyInRange } from "../model/etcd-types.js";
import type { CheckVerdict, Operation } from "./operation.js";
import { type SearchResult, searchLinearization } from "./wgl.js";

/** EtcdOperation is one recorded etcd request with its answer (undefined when the outcome is unknown). */
export type EtcdOperation = Operation<EtcdRequest, EtcdResponse>;

/** PartitionReport is the check of one partition: the keys it owns and the operations that touch them. */
export interface PartitionReport {
  readonly keys: readonly string[];
  /** operations are indexes into `LinearizabilityReport.operations`. */
  readonly operations: readonly number[];
  readonly result: SearchResult;
}

/** LinearizabilityReport is the outcome of `checkEtcdHistory`. */
export interface LinearizabilityReport {
  readonly verdict: CheckVerdict;
  /** operations is the history as checked: failed reads dropped, open writes with return = Infinity. */
  readonly operations: readonly EtcdOperation[];
  /** dropped counts failed reads and lease grants left out (they cannot constrain anything). */
  readonly dropped: number;
  readonly partitions: readonly PartitionReport[];
  /** revisionViolations are breaches of the global revision order (real time vs header revisions). */
  readonly revisionViolations: readonly string[];
}

/** CheckOptions tune `checkEtcdHistory`. */
export interface CheckOptions {
  /** partition splits the history by key (P-compositionality); default true. */
  readonly partition?: boolean;
  /** timeoutMs bounds the whole search; past it the verdict is "unknown" (default 120 s). */
  readonly timeoutMs?: number;
  /**
   * persistedValues, when known, are all the values the cluster ever applied (from a complete watch log,
   * as etcd's robustness tests patch their histories): unanswered writes of other values are dropped.
   */
  readonly persistedValues?: ReadonlySet<string>;
}

const isReadOnly = (request: EtcdRequest): boolean =>
  request.type === "range" ||
  (request.type === "txn" && [...request.success, ...request.failure].every((op) => op.type === "range"));

/**
 * prepareHistory drops what cannot constrain a linearization (reads without an answer, lease grants:
 * a lease id is only used after its grant returned) and makes every unanswered write open-ended.
 */
export function prepareHistory(
  history: readonly EtcdOperation[],
  persistedValues?: ReadonlySet<string>,
): {
  operations: EtcdOperation[];
  dropped: number;
} {
  const seenBy = observedValues(history);
  const operations: EtcdOperation[] = [];
  for (const op of history) {
    if (op.input.type === "leaseGrant") continue;
    if (op.output === undefined) {
      if (isReadOnly(op.input)) continue;
      if (persistedValues !== undefined && neverApplied(op.input, persistedValues)) continue;
      // A value written by this request alone and read back means it happened before that read returned.
      let observedAt = Number.POSITIVE_INFINITY;
      for (const value of writtenValues(op.input))
        observedAt = Math.min(observedAt, seenBy.get(value) ?? observedAt);
      operations.push({ ...op, return: Math.max(op.call, observedAt) });
      continue;
    }
    operations.push(op);
  }
  return { operations, dropped: history.length - operations.length };
}

/**
 * neverApplied: an unanswered put or txn that deletes nothing and none of whose values the cluster ever
 * applied did not happen (or happened without changing anything). Dropping it keeps the check sound
 * whatever `persisted` holds: it only takes away the linearizations in which the request took effect.
 */
function neverApplied(request: EtcdRequest, persisted: ReadonlySet<string>): boolean {
  if (request.type === "put") return !persisted.has(request.value);
  if (request.type !== "txn") return false;
  const ops = [...request.success, ...request.failure];
  return ops.every((op) => op.type !== "delete" && (op.type !== "put" || !persisted.has(op.value)));
}

function writtenValues(request: EtcdRequest): string[] {
  if (request.type === "put") return [request.value];
  if (request.type !== "txn") return [];
  return [...request.success, ...request.failure].flatMap((op) => (op.type === "put" ? [op.value] : []));
}

/**
 * observedValues maps each value that exactly one request writes to the earliest return of an answered
 * read that saw it (as etcd's robustness tests patch their histories; values written twice are left out,
 * since a read of one of them does not say which write happened).
 */
function observedValues(history: readonly EtcdOperation[]): Map<string, number> {
  const writers = new Map<string, number>();
  for (const op of history) {
    for (const value of writtenValues(op.input)) writers.set(value, (writers.get(value) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  const note = (kvs: readonly { value: string }[], at: number) => {
    for (const kv of kvs) {
      if (writers.get(kv.value) === 1) seen.set(kv.value, Math.min(at, seen.get(kv.value) ?? at));
    }
  };
  for (const op of history) {
    const out = op.output;
    if (out?.type === "range") note(out.kvs, op.return);
    if (out?.type === "txn") for (const r of out.results) if (r.type === "range") note(r.kvs, op.return);
  }
  return seen;
}

/**
 * keyGroups lists, for one operation, groups of keys that must be checked together. With `atomicOpen`
 * false, an unanswered txn or revoke is split by key like an answered one (a relaxation: each partition
 * may then decide alone whether it happened), which is the fast first pass of `checkEtcdHistory`.
 */
function keyGroups(
  op: EtcdOperation,
  universe: readonly string[],
  leaseKeys: ReadonlyMap<number, ReadonlySet<string>>,
  atomicOpen: boolean,
): string[][] {
  const request = op.input;
  const returned = (kvs: readonly { key: string }[]) => kvs.map((kv) => kv.key);
  const rangeKeys = (key: string, end: string | undefined) =>
    end === undefined ? [key] : universe.filter((k) => keyInRange(k, key, end));
  switch (request.type) {
    case "range": {
      const keys = new Set(rangeKeys(request.key, request.end));
      if (op.output?.type === "range") for (const k of returned(op.output.kvs)) keys.add(k);
      return [...keys].map((k) => [k]);
    }
    case "put":
    case "delete":
      return [[request.key]];
    case "leaseGrant":
      return [];
    case "leaseRevoke": {
      // An unanswered revoke happened on all of its keys or on none: they are checked together.
      const keys = [...(leaseKeys.get(request.lease) ?? [])];
      return op.output === undefined && atomicOpen ? [keys] : keys.map((k) => [k]);
    }
    case "txn": {
      const keys = new Set<string>();
      for (const cmp of request.compare) keys.add(cmp.key);
      for (const txnOp of [...request.success, ...request.failure]) {
        // The reads of an unanswered txn returned nothing: they constrain no key.
        if (txnOp.type === "range" && op.output === undefined) continue;
        for (const k of txnOp.type === "range" ? rangeKeys(txnOp.key, txnOp.end) : [txnOp.key]) keys.add(k);
      }
      if (op.output?.type === "txn") {
        for (const r of op.output.results)
          if (r.type === "range") for (const k of returned(r.kvs)) keys.add(k);
      }
      const compareKeys = new Set(request.compare.map((c) => c.key));
      // An unanswered txn happened on all of its keys at one revision, or not at all: one partition.
      const together =
        op.output === undefined
          ? atomicOpen || compareKeys.size > 0
          : op.output.type === "error" ||
            (op.output.type === "txn" && !op.output.succeeded && compareKeys.size > 1);
      return together ? [[...keys]] : [...keys].map((k) => [k]);
    }
  }
}

/** universeOf is every key a history writes, compares or reads (including keys only ever returned). */
function universeOf(operations: readonly EtcdOperation[]): string[] {
  const keys = new Set<string>();
  for (const op of operations) {
    const r = op.input;
    if (r.type === "put" || r.type === "delete" || (r.type === "range" && r.end === undefined))
      keys.add(r.key);
    if (r.type === "txn") {
      for (const c of r.compare) keys.add(c.key);
      for (const t of [...r.success, ...r.failure])
        if (t.type !== "range" || t.end === undefined) keys.add(t.key);
    }
    const out = op.output;
    if (out?.type === "range") for (const kv of out.kvs) keys.add(kv.key);
    if (out?.type === "txn")
      for (const res of out.results) if (res.type === "range") for (const kv of res.kvs) keys.add(kv.key);
  }
  return [...keys].sort();
}

function leaseKeysOf(operations: readonly EtcdOperation[]): Map<number, Set<string>> {
  const map = new Map<number, Set<string>>();
  const note = (lease: number | undefined, key: string) => {
    if (lease === undefined || lease === 0) return;
    const set = map.get(lease) ?? new Set<string>();
    set.add(key);
    map.set(lease, set);
  };
  for (const op of operations) {
    const r = op.input;
    if (r.type === "put") note(r.lease, r.key);
    if (r.type === "txn")
      for (const t of [...r.success, ...r.failure]) if (t.type === "put") note(t.lease, t.key);
  }
  return map;
}

/**
 * partitionHistory groups keys (union-find over the groups each operation needs) into partitions. With
 * `atomicOpen` (the default) the keys of an unanswered multi-key txn or revoke stay together.
 */
export function partitionHistory(
  operations: readonly EtcdOperation[],
  atomicOpen = true,
): Array<{ keys: string[]; operations: number[] }> {
  const universe = universeOf(operations);
  const leaseKeys = leaseKeysOf(operations);
  const parent = new Map<string, string>(universe.map((k) => [k, k]));
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    parent.set(k, root);
    return root;
  };
  const groupsOf = operations.map((op) => keyGroups(op, universe, leaseKeys, atomicOpen));
  for (const groups of groupsOf) {
    for (const group of groups) {
      const [first, ...rest] = group;
      if (first === undefined) continue;
      for (const k of rest) parent.set(find(k), find(first));
    }
  }
  const byRoot = new Map<string, { keys: string[]; operations: number[] }>();
  for (const k of universe) {
    const root = find(k);
    const part = byRoot.get(root) ?? { keys: [], operations: [] };
    part.keys.push(k);
    byRoot.set(root, part);
  }
  groupsOf.forEach((groups, index) => {
    const roots = new Set(groups.flat().map(find));
    for (const root of roots) byRoot.get(root)?.operations.push(index);
  });
  return [...byRoot.values()];
}

const changesState = (output: EtcdResponse, request: EtcdRequest): boolean => {
  switch (output.type) {
    case "put":
      return true;
    case "delete":
      return output.deleted > 0;
    case "txn": {
      if (request.type !== "txn") return false;
      const ops = output.succeeded ? request.success : request.failure;
      return ops.some((op, i) => {
        const r = output.results[i];
        return op.type === "put" || (op.type === "delete" && r?.type === "delete" && r.deleted > 0);
      });
    }
    default:
      return false;
  }
};

/**
 * checkRevisionOrder checks the global revision order, which partitions cannot see: an operation that
 * starts after another returned answers with a revision at least as high (strictly higher for a write
 * that changed something), and no two writes that changed something share a revision.
 */
export function checkRevisionOrder(operations: readonly EtcdOperation[]): string[] {
  const violations: string[] = [];
  const answered = operations
    .map((op, index) => ({ op, index }))
    .filter(({ op }) => op.output !== undefined && op.output.type !== "error");
  const revisionOf = (op: EtcdOperation) => (op.output as { revision: number }).revision;
  const writers = new Map<number, number>();
  for (const { op, index } of answered) {
    if (op.output === undefined || !changesState(op.output, op.input)) continue;
    const rev = revisionOf(op);
    const other = writers.get(rev);
    if (other !== undefined) violations.push(`operations #${other} and #${index} both wrote revision ${rev}`);
    writers.set(rev, index);
  }
  const byReturn = [...answered].sort((a, b) => a.op.return - b.op.return);
  const byCall = [...answered].sort((a, b) => a.op.call - b.op.call);
  let cursor = 0;
  let maxRev = -1;
  let maxIndex = -1;
  for (const { op, index } of byCall) {
    for (; cursor < byReturn.length; cursor++) {
      const done = byReturn[cursor];
      assert(done !== undefined, "cursor");
      if (done.op.return >= op.call) break;
      if (revisionOf(done.op) > maxRev) {
        maxRev = revisionOf(done.op);
        maxIndex = done.index;
      }
    }
    const rev = revisionOf(op);
    const write = op.output !== undefined && changesState(op.output, op.input);
    if (write ? rev <= maxRev : rev < maxRev) {
      violations.push(
        `operation #${index} (revision ${rev}) started after #${maxIndex} returned revision ${maxRev}`,
      );
    }
  }
  return violations;
}

/**
 * checkEtcdHistory checks a client history of an etcd cluster for linearizability: P-compositional WGL
 * (one search per partition of keys) with the etcd model, plus the global revision order.
 */
export function checkEtcdHistory(
  history: readonly EtcdOperation[],
  options: CheckOptions = {},
): LinearizabilityReport {
  const { operations, dropped } = prepareHistory(history, options.persistedValues);
  const deadlineMs = Date.now() + (options.timeoutMs ?? 120_000);
  const search = (parts: Array<{ keys: string[]; operations: number[] }>): PartitionReport[] =>
    parts.map((part) => {
      const ops = part.operations.map((i) => operations[i] as EtcdOperation);
      const result = searchLinearization(etcdModel(new Set(part.keys)), ops, { deadlineMs });
      return { keys: part.keys, operations: part.operations, result };
    });
  let partitions: PartitionReport[];
  if (options.partition === false) {
    partitions = search([{ keys: universeOf(operations), operations: operations.map((_, i) => i) }]);
  } else {
    // First pass: unanswered multi-key writes split by key (finer partitions, fast; it accepts a superset
    // of the histories the exact pass accepts, so an illegal verdict here is final). Second pass: their
    // keys together, so that each happened on all of its keys at one revision, or not at all.
    const fine = partitionHistory(operations, false);
    const exact = partitionHistory(operations, true);
    partitions = search(fine);
    if (exact.length !== fine.length && partitions.every((p) => p.result.verdict === "ok")) {
      partitions = search(exact);
    }
  }
  const revisionViolations = checkRevisionOrder(operations);
  let verdict: CheckVerdict = "ok";
  if (partitions.some((p) => p.result.verdict === "unknown")) verdict = "unknown";
  if (revisionViolations.length > 0 || partitions.some((p) => p.result.verdict === "illegal"))
    verdict = "illegal";
  return { verdict, operations, dropped, partitions, revisionViolations };
}
