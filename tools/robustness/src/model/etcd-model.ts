import { assert } from "../assert.js";
import type { Model } from "../checker/operation.js";
import { chainHash } from "../hash.js";
import type { Compare, EtcdRequest, EtcdResponse, KeyValue, TxnOp, TxnResult } from "./etcd-types.js";
import { keyInRange } from "./etcd-types.js";

/**
 * A revision the model may not know yet: the revision of an open-ended write that took effect. It is
 * known to be above `above` and, once an operation with a known header revision has been linearized after
 * the write, at most `atMost`; the first read that shows it binds it.
 */
interface UnknownRevision {
  readonly above: number;
  readonly atMost?: number;
}

type Rev = number | UnknownRevision;

/** A version of a key: a live value, or a tombstone (`value` undefined) left by a delete. */
interface VersionNode {
  readonly value: string | undefined;
  readonly mod: Rev;
  readonly create: Rev;
  readonly version: number;
  readonly lease: number;
  /** below is the previous version of the key (its history, newest first). */
  readonly below: VersionNode | undefined;
  /** hash fingerprints this node and everything below it. */
  readonly hash: number;
  /** unbounded: this node or one below has an unknown revision without `atMost` yet. */
  readonly unbounded: boolean;
  /** unknown: this node or one below has an unknown revision. */
  readonly unknown: boolean;
}

/**
 * KeySpaceState is one possible state of the keys a partition owns.
 *
 * Revisions are global in etcd, but a partition sees only its own keys, so the model keeps a `floor`
 * instead of the exact revision: every operation linearized later must answer with a header revision
 * >= floor, and a write that changes one of the partition's keys must get a revision > floor. With the
 * whole history in one partition this is still exact enough to catch lost, reordered and stale results;
 * the global order of revisions across partitions is checked separately (see `checkRevisionOrder`).
 */
interface KeySpaceState {
  readonly floor: number;
  readonly keys: ReadonlyMap<string, VersionNode | undefined>;
  /** revoked leases (sorted): a put with one of them fails with "lease not found". */
  readonly revoked: readonly number[];
  readonly key: string;
}

/** EtcdModelState is the set of states the partition may be in (the non-deterministic model). */
export type EtcdModelState = readonly KeySpaceState[];

const isKnown = (rev: Rev): rev is number => typeof rev === "number";
const revText = (rev: Rev): string =>
  isKnown(rev) ? String(rev) : `?>${rev.above}${rev.atMost === undefined ? "" : `<=${rev.atMost}`}`;
const isUnbounded = (rev: Rev): boolean => !isKnown(rev) && rev.atMost === undefined;
/** bounded gives an unbounded unknown revision its upper bound; other revisions stay as they are. */
const bounded = (rev: Rev, atMost: number): Rev =>
  isUnbounded(rev) ? { ...(rev as UnknownRevision), atMost } : rev;

function makeNode(
  value: string | undefined,
  mod: Rev,
  create: Rev,
  version: number,
  lease: number,
  below: VersionNode | undefined,
): VersionNode {
  const text = `${value === undefined ? "~" : JSON.stringify(value)}@${revText(mod)}/${revText(create)}/${version}/${lease}`;
  const unbounded = isUnbounded(mod) || isUnbounded(create) || (below?.unbounded ?? false);
  const unknown = !isKnown(mod) || !isKnown(create) || (below?.unknown ?? false);
  const hash = chainHash(below?.hash ?? 7, text);
  return { value, mod, create, version, lease, below, hash, unbounded, unknown };
}

/** boundNode gives every unbounded unknown revision in a key's history the upper bound `atMost`. */
function boundNode(node: VersionNode | undefined, atMost: number): VersionNode | undefined {
  if (node === undefined || !node.unbounded) return node;
  return makeNode(
    node.value,
    bounded(node.mod, atMost),
    bounded(node.create, atMost),
    node.version,
    node.lease,
    boundNode(node.below, atMost),
  );
}

/**
 * resolveNode replaces the unknown revision of one open write (identified by its `above`: each open write
 * that changed the partition raised the floor by one, so no two share it) with the known `revision`.
 */
function resolveNode(
  node: VersionNode | undefined,
  above: number,
  revision: number,
): VersionNode | undefined {
  if (node === undefined || !node.unknown) return node;
  const fix = (rev: Rev): Rev => (!isKnown(rev) && rev.above === above ? revision : rev);
  return makeNode(
    node.value,
    fix(node.mod),
    fix(node.create),
    node.version,
    node.lease,
    resolveNode(node.below, above, revision),
  );
}

function makeState(
  floor: number,
  keys: ReadonlyMap<string, VersionNode | undefined>,
  revoked: readonly number[],
) {
  const names = [...keys.keys()].sort();
  let key = `${floor};${revoked.join(",")}`;
  for (const name of names) key += `;${keys.get(name)?.hash ?? 0}`;
  return { floor, keys, revoked, key };
}

/** Draft is a mutable copy of one state while a request is applied to it. */
class Draft {
  readonly keys: Map<string, VersionNode | undefined>;
  revoked: number[];
  changed = false;

  constructor(
    readonly base: KeySpaceState,
    readonly universe: ReadonlySet<string>,
  ) {
    this.keys = new Map(base.keys);
    this.revoked = [...base.revoked];
  }

  current(key: string): VersionNode | undefined {
    const node = this.keys.get(key);
    return node?.value === undefined ? undefined : node;
  }

  isRevoked(lease: number): boolean {
    return lease !== 0 && this.revoked.includes(lease);
  }

  put(key: string, value: string, lease: number, rev: Rev): void {
    if (!this.universe.has(key)) return;
    const head = this.keys.get(key);
    const live = head?.value === undefined ? undefined : head;
    const create = live === undefined ? rev : live.create;
    this.keys.set(key, makeNode(value, rev, create, (live?.version ?? 0) + 1, lease, head));
    this.changed = true;
  }

  /** remove deletes a live key; returns whether it existed. */
  remove(key: string, rev: Rev): boolean {
    if (!this.universe.has(key)) return false;
    const head = this.keys.get(key);
    if (head === undefined || head.value === undefined) return false;
    this.keys.set(key, makeNode(undefined, rev, rev, 0, 0, head));
    this.changed = true;
    return true;
  }

  /**
   * bind makes an unknown revision known: the open write it stands for got `revision`, on every key it
   * wrote (a txn writes all its keys at one revision). Returns false when `revision` is out of its bounds.
   */
  bind(rev: Rev, revision: number): boolean {
    if (isKnown(rev)) return rev === revision;
    if (!matchRev(rev, revision)) return false;
    for (const [key, node] of this.keys) {
      if (node?.unknown === true) this.keys.set(key, resolveNode(node, rev.above, revision));
    }
    return true;
  }

  /**
   * boundUnknown records that an operation with a known header revision was linearized now: every write
   * of unknown revision before it got a revision of at most `atMost` (the header, or one less when this
   * operation is itself a write that changed something).
   */
  boundUnknown(atMost: number): void {
    for (const [key, node] of this.keys) {
      if (node?.unbounded === true) this.keys.set(key, boundNode(node, atMost));
    }
  }

  finish(floor: number): KeySpaceState {
    return makeState(
      floor,
      this.keys,
      [...this.revoked].sort((a, b) => a - b),
    );
  }
}

/**
 * matchKeyValue checks a returned key-value against the key's live version; binds unknown revisions.
 * Returns false when they cannot be the same.
 */
function matchCurrent(draft: Draft, key: string, got: KeyValue | undefined, headerRevision: number): boolean {
  const live = draft.current(key);
  if (live === undefined || got === undefined) return live === undefined && got === undefined;
  if (got.value !== live.value || got.version !== live.version || got.lease !== live.lease) return false;
  if (got.modRevision > headerRevision) return false;
  if (!matchRev(live.mod, got.modRevision) || !matchRev(live.create, got.createRevision)) return false;
  if (!draft.bind(live.mod, got.modRevision)) return false;
  const bound = draft.current(key);
  if (bound === undefined || !draft.bind(bound.create, got.createRevision)) return false;
  return true;
}

function matchRev(expected: Rev, got: number): boolean {
  if (isKnown(expected)) return expected === got;
  return got > expected.above && (expected.atMost === undefined || got <= expected.atMost);
}

/**
 * versionAt is the version of a key visible at `revision` from its history: a node, null (absent), or
 * "ambiguous" when an open-ended write of unknown revision could be either side of `revision`.
 */
function versionAt(head: VersionNode | undefined, revision: number): VersionNode | null | "ambiguous" {
  for (let node = head; node !== undefined; node = node.below) {
    if (isKnown(node.mod)) {
      if (node.mod > revision) continue;
      return node.value === undefined ? null : node;
    }
    if (node.mod.above >= revision) continue;
    if (node.mod.atMost !== undefined && node.mod.atMost <= revision) {
      return node.value === undefined ? null : node;
    }
    return "ambiguous";
  }
  return null;
}

function matchHistorical(node: VersionNode | null | "ambiguous", got: KeyValue | undefined): boolean {
  if (node === "ambiguous") return true;
  if (node === null || got === undefined) return node === null && got === undefined;
  return (
    got.value === node.value &&
    got.version === node.version &&
    got.lease === node.lease &&
    matchRev(node.mod, got.modRevision) &&
    matchRev(node.create, got.createRevision)
  );
}

/** checkRange compares a range answer with the partition's keys in that range (now or at a revision). */
function checkRange(
  draft: Draft,
  request: { key: string; end?: string; revision?: number },
  kvs: readonly KeyValue[],
  headerRevision: number,
): boolean {
  const returned = new Map<string, KeyValue>();
  for (const kv of kvs) {
    if (!keyInRange(kv.key, request.key, request.end)) return false;
    if (draft.universe.has(kv.key)) {
      if (returned.has(kv.key)) return false;
      returned.set(kv.key, kv);
    }
  }
  for (const key of draft.universe) {
    if (!keyInRange(key, request.key, request.end)) continue;
    const got = returned.get(key);
    if (request.revision !== undefined && request.revision > 0) {
      if (request.revision > headerRevision) return false;
      if (!matchHistorical(versionAt(draft.keys.get(key), request.revision), got)) return false;
    } else if (!matchCurrent(draft, key, got, headerRevision)) return false;
  }
  return true;
}

type Truth = boolean | "unknown";

function compareOne(draft: Draft, cmp: Compare): Truth {
  if (!draft.universe.has(cmp.key)) return "unknown";
  const live = draft.current(cmp.key);
  let actual: string | number | Rev;
  switch (cmp.target) {
    case "value":
      if (live === undefined) return false; // etcd: a value compare on a missing key is false
      actual = live.value ?? "";
      break;
    case "mod":
      actual = live?.mod ?? 0;
      break;
    case "create":
      actual = live?.create ?? 0;
      break;
    case "version":
      actual = live?.version ?? 0;
      break;
    case "lease":
      actual = live?.lease ?? 0;
      break;
  }
  if (typeof actual === "object") {
    // Unknown revision in [lo, hi]: decide only what the bounds decide.
    const want = Number(cmp.value);
    const lo = actual.above + 1;
    const hi = actual.atMost ?? Number.POSITIVE_INFINITY;
    switch (cmp.result) {
      case "=":
      case "!=": {
        const equal: Truth = want < lo || want > hi ? false : lo === hi ? true : "unknown";
        return cmp.result === "=" || equal === "unknown" ? equal : !equal;
      }
      case ">":
        return lo > want ? true : hi <= want ? false : "unknown";
      case "<":
        return hi < want ? true : lo >= want ? false : "unknown";
    }
  }
  const want = cmp.value;
  switch (cmp.result) {
    case "=":
      return actual === want;
    case "!=":
      return actual !== want;
    case "<":
      return actual < want;
    case ">":
      return actual > want;
  }
}

/** bindForSuccess pins unknown revisions so that every `=` compare on them holds (success branch). */
function bindForSuccess(draft: Draft, compares: readonly Compare[]): boolean {
  for (const cmp of compares) {
    if (!draft.universe.has(cmp.key)) continue;
    const truth = compareOne(draft, cmp);
    if (truth === true) continue;
    if (truth === false) return false;
    const live = draft.current(cmp.key);
    if (live === undefined || cmp.result !== "=") continue; // stays unknown: accepted either way
    const want = Number(cmp.value);
    if (cmp.target === "mod" && !draft.bind(live.mod, want)) return false;
    if (cmp.target === "create" && !draft.bind(live.create, want)) return false;
  }
  // A bind may have decided an earlier compare (two compares on one unknown revision): all must hold.
  return compares.every((cmp) => compareOne(draft, cmp) !== false);
}

interface Applied {
  results: TxnResult[];
}

/** applyOps runs one txn branch (or a plain request's single op) at revision `rev`. */
function applyOps(
  draft: Draft,
  ops: readonly TxnOp[],
  rev: Rev,
  expected: readonly TxnResult[] | undefined,
  headerRevision: number | undefined,
): Applied | undefined {
  const results: TxnResult[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    assert(op !== undefined, "txn op");
    const want = expected?.[i];
    if (expected !== undefined && (want === undefined || want.type !== op.type)) return undefined;
    switch (op.type) {
      case "range": {
        if (want?.type === "range" && headerRevision !== undefined) {
          if (!checkRange(draft, op, want.kvs, headerRevision)) return undefined;
        }
        results.push({ type: "range", kvs: [] });
        break;
      }
      case "put":
        draft.put(op.key, op.value, op.lease ?? 0, rev);
        results.push({ type: "put" });
        break;
      case "delete": {
        const existed = draft.remove(op.key, rev);
        if (want?.type === "delete" && draft.universe.has(op.key) && want.deleted !== (existed ? 1 : 0)) {
          return undefined;
        }
        results.push({ type: "delete", deleted: existed ? 1 : 0 });
        break;
      }
    }
  }
  return { results };
}

const branchLeases = (ops: readonly TxnOp[]) =>
  ops.flatMap((op) => (op.type === "put" && op.lease !== undefined && op.lease !== 0 ? [op.lease] : []));

/**
 * stepOne applies a request to one possible state; returns every state it may lead to (none = illegal).
 */
function stepOne(
  base: KeySpaceState,
  universe: ReadonlySet<string>,
  request: EtcdRequest,
  response: EtcdResponse | undefined,
): KeySpaceState[] {
  const open = response === undefined;
  const pendingRev: Rev = { above: base.floor };
  // finishWrite applies the floor rules once the request's effect on the draft is known.
  const finishWrite = (draft: Draft, headerRevision: number | undefined): KeySpaceState[] => {
    if (headerRevision === undefined) return [draft.finish(draft.changed ? base.floor + 1 : base.floor)];
    if (draft.changed ? headerRevision <= base.floor : headerRevision < base.floor) return [];
    draft.boundUnknown(draft.changed ? headerRevision - 1 : headerRevision);
    return [draft.finish(headerRevision)];
  };
  const revOf = (r: EtcdResponse | undefined): Rev =>
    r !== undefined && "revision" in r ? r.revision : pendingRev;

  switch (request.type) {
    case "range": {
      if (response === undefined) return [base]; // a read with no answer has no effect
      if (response.type !== "range") return [];
      if (response.revision < base.floor) return [];
      const draft = new Draft(base, universe);
      if (!checkRange(draft, request, response.kvs, response.revision)) return [];
      draft.boundUnknown(response.revision);
      return [draft.finish(response.revision)];
    }
    case "put": {
      const draft = new Draft(base, universe);
      const lease = request.lease ?? 0;
      if (draft.isRevoked(lease)) {
        // etcd refuses the whole request: nothing applied.
        return open || response.type === "error" ? [base] : [];
      }
      if (!open && response.type !== "put") {
        // "lease not found" for a lease this partition has not seen revoked: possible only if the lease
        // is not one of ours, which the history never does.
        return [];
      }
      draft.put(request.key, request.value, lease, revOf(response));
      return finishWrite(draft, open ? undefined : (response as { revision: number }).revision);
    }
    case "delete": {
      if (!open && response.type !== "delete") return [];
      const draft = new Draft(base, universe);
      const existed = draft.remove(request.key, revOf(response));
      if (!open && universe.has(request.key) && response.deleted !== (existed ? 1 : 0)) return [];
      return finishWrite(draft, open ? undefined : response.revision);
    }
    case "txn": {
      if (!open && response.type !== "txn" && response.type !== "error") return [];
      const out: KeySpaceState[] = [];
      for (const succeeded of [true, false]) {
        if (!open && response.type === "txn" && response.succeeded !== succeeded) continue;
        const draft = new Draft(base, universe);
        const truths = request.compare.map((c) => compareOne(draft, c));
        if (succeeded && truths.includes(false)) continue;
        if (!succeeded && truths.length > 0 && truths.every((t) => t === true)) continue;
        if (!succeeded && truths.length === 0) continue;
        if (
          open &&
          truths.some((t) => t === "unknown") &&
          request.compare.some((c) => !universe.has(c.key))
        ) {
          // The partitioner keeps an open txn's compares in one partition; never here.
          assert(false, "open txn with compares outside its partition");
        }
        if (succeeded && !bindForSuccess(draft, request.compare)) continue;
        const ops = succeeded ? request.success : request.failure;
        if (branchLeases(ops).some((l) => draft.isRevoked(l))) {
          if (open || response.type === "error") out.push(base);
          continue;
        }
        if (!open && response.type === "error") continue;
        const txn = open ? undefined : (response as Extract<EtcdResponse, { type: "txn" }>);
        const applied = applyOps(draft, ops, revOf(response), txn?.results, txn?.revision);
        if (applied === undefined) continue;
        if (txn !== undefined && txn.results.length !== ops.length) continue;
        out.push(...finishWrite(draft, txn?.revision));
      }
      return out;
    }
    case "leaseGrant":
      return [base];
    case "leaseRevoke": {
      const draft = new Draft(base, universe);
      if (draft.isRevoked(request.lease)) {
        return open || response.type === "error" ? [base] : [];
      }
      if (!open && response.type !== "leaseRevoke") return [];
      const rev = revOf(response);
      for (const [key] of draft.keys) {
        if (draft.current(key)?.lease === request.lease) draft.remove(key, rev);
      }
      draft.revoked.push(request.lease);
      return finishWrite(draft, open ? undefined : response.revision);
    }
  }
}

/**
 * etcdModel is the sequential specification of the etcd v3 KV and lease API over the keys in `universe`
 * (one partition of a history): per key the value, mod and create revision, version and lease, with its
 * history for stale reads at a revision; the revision floor; revoked leases. It is non-deterministic: a
 * state is the set of states the partition may be in (an open txn whose compare depends on an unknown
 * revision may have taken either branch).
 */
export function etcdModel(universe: ReadonlySet<string>): Model<EtcdModelState, EtcdRequest, EtcdResponse> {
  return {
    init: () => [makeState(0, new Map([...universe].map((k) => [k, undefined])), [])],
    step(states, request, response) {
      const next = new Map<string, KeySpaceState>();
      for (const state of states) {
        for (const s of stepOne(state, universe, request, response)) next.set(s.key, s);
      }
      return next.size === 0 ? undefined : [...next.values()];
    },
    key: (states) =>
      states
        .map((s) => s.key)
        .sort()
        .join("|"),
    describeOperation: describeEtcdOperation,
    describeState: (states) => states.map(describeKeySpace).join(" OR "),
  };
}

function describeKeySpace(state: KeySpaceState): string {
  const parts: string[] = [];
  for (const [key, node] of [...state.keys].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (node === undefined || node.value === undefined) continue;
    parts.push(
      `${key}=${JSON.stringify(node.value)}(mod ${revText(node.mod)}, v${node.version}${node.lease ? `, lease ${node.lease}` : ""})`,
    );
  }
  const revoked = state.revoked.length > 0 ? ` revoked leases [${state.revoked.join(",")}]` : "";
  return `{rev>=${state.floor}${parts.length > 0 ? ` ${parts.join(" ")}` : ""}${revoked}}`;
}

/** describeEtcdOperation renders a request and its answer in one line (for reports). */
export function describeEtcdOperation(request: EtcdRequest, response: EtcdResponse | undefined): string {
  const answer = response === undefined ? "?" : describeResponse(response);
  return `${describeRequest(request)} -> ${answer}`;
}

function describeTxnOp(op: TxnOp): string {
  switch (op.type) {
    case "range":
      return op.end === undefined ? `get(${op.key})` : `range(${op.key}..${op.end})`;
    case "put":
      return `put(${op.key}, ${JSON.stringify(op.value)}${op.lease ? `, lease ${op.lease}` : ""})`;
    case "delete":
      return `delete(${op.key})`;
  }
}

function describeRequest(request: EtcdRequest): string {
  switch (request.type) {
    case "range": {
      const at = request.revision ? ` @rev ${request.revision}` : "";
      return request.end === undefined
        ? `get(${request.key}${at})`
        : `list(${request.key}..${request.end}${at})`;
    }
    case "put":
    case "delete":
      return describeTxnOp(request);
    case "txn": {
      const cmp = request.compare.map((c) => `${c.target}(${c.key}) ${c.result} ${JSON.stringify(c.value)}`);
      return `txn(if ${cmp.join(" && ") || "true"} then [${request.success.map(describeTxnOp).join(", ")}] else [${request.failure.map(describeTxnOp).join(", ")}])`;
    }
    case "leaseGrant":
      return `leaseGrant(${request.ttlSeconds}s)`;
    case "leaseRevoke":
      return `leaseRevoke(${request.lease})`;
  }
}

function describeKvs(kvs: readonly KeyValue[]): string {
  return `[${kvs.map((kv) => `${kv.key}=${JSON.stringify(kv.value)}(mod ${kv.modRevision}, create ${kv.createRevision}, v${kv.version}${kv.lease ? `, lease ${kv.lease}` : ""})`).join(" ")}]`;
}

function describeResponse(response: EtcdResponse): string {
  switch (response.type) {
    case "range":
      return `rev ${response.revision} ${describeKvs(response.kvs)}`;
    case "put":
    case "leaseRevoke":
      return `rev ${response.revision}`;
    case "delete":
      return `rev ${response.revision} deleted ${response.deleted}`;
    case "txn": {
      const results = response.results.map((r) =>
        r.type === "range" ? describeKvs(r.kvs) : r.type === "delete" ? `deleted ${r.deleted}` : "ok",
      );
      return `rev ${response.revision} ${response.succeeded ? "succeeded" : "failed"} [${results.join(", ")}]`;
    }
    case "leaseGrant":
      return `rev ${response.revision} lease ${response.lease}`;
    case "error":
      return `error: ${response.error}`;
  }
}
