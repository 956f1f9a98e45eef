import type { EtcdOperation } from "../checker/etcd-linearizability.js";
import type { KeyValue } from "../model/etcd-types.js";
import type { WatchEvent, WatchRecord } from "../traffic/watcher.js";

/** WatchCheckInput is what the watch checks need besides the watch records. */
export interface WatchCheckInput {
  readonly watchers: readonly WatchRecord[];
  /** finalRevision is the cluster's revision once traffic stopped: every watcher must get there. */
  readonly finalRevision: number;
  /** history is the client history (acknowledged writes must show up in the watch log). */
  readonly history: readonly EtcdOperation[];
  /** compacted is true when the run compacted (prev_kv may then be missing legitimately). */
  readonly compacted: boolean;
  /**
   * keyspaceStart, when set, says the watched keys had no event before this revision, while writes
   * outside the watched range share the revision sequence (the soak: each window writes fresh keys on a
   * long-lived cluster). Then a watcher is reliable when it has every revision the watched keys are known
   * to have had (any watcher's event, any acknowledged write) from its start to the final revision, and
   * prev_kv is checked when some watcher started at or before `keyspaceStart` and was never compacted.
   * Unset: the watched range is the only thing written since revision 1, so every revision must be there.
   */
  readonly keyspaceStart?: number;
}

/** WatchCheckResult lists the broken guarantees (empty = all held) and the merged event log size. */
export interface WatchCheckResult {
  readonly violations: string[];
  /** events counts every event received by every watcher. */
  readonly events: number;
  /** revisions is how many revisions the merged log covers. */
  readonly revisions: number;
}

/** watchStart is the first revision a watch covers ("from now" covers what follows its creation). */
export function watchStart(w: WatchRecord): number {
  return w.startRevision > 0 ? w.startRevision : (w.createdRevision ?? Number.POSITIVE_INFINITY) + 1;
}

/** putValues are the values of every put a watcher received: from a complete watch, all values applied. */
export function putValues(w: WatchRecord): Set<string> {
  return new Set(w.responses.flat().flatMap((e) => (e.type === "put" ? [e.kv.value] : [])));
}

const sameKv = (a: KeyValue | undefined, b: KeyValue | undefined) =>
  a === undefined || b === undefined
    ? a === b
    : a.key === b.key &&
      a.value === b.value &&
      a.modRevision === b.modRevision &&
      a.createRevision === b.createRevision &&
      a.version === b.version &&
      a.lease === b.lease;

const eventText = (e: WatchEvent) => `${e.type} ${e.kv.key}=${JSON.stringify(e.kv.value)}@${e.revision}`;

/**
 * checkWatches validates etcd's watch guarantees over every watcher of a run:
 * ordered (revisions never go back), unique (no event twice), atomic (a revision's events arrive in one
 * response, all of them), reliable (no revision missing between a watcher's start and the final
 * revision, across resumptions), consistent (every watcher saw the same events for a revision), prev_kv
 * correct (equal to the key's previous version), create flag consistent (version 1 = created), and every
 * acknowledged write present in the log at its revision with its value.
 */
export function checkWatches(input: WatchCheckInput): WatchCheckResult {
  const violations: string[] = [];
  const log = new Map<number, { watcher: number; events: WatchEvent[] }>();
  const shared = input.keyspaceStart !== undefined;
  // The revisions the watched keys are known to have: every watcher's events and every acknowledged write.
  const known = shared ? knownRevisions(input) : undefined;
  let events = 0;
  for (const w of input.watchers) {
    let last = 0;
    const seen = new Set<string>();
    const perRevision = new Map<number, WatchEvent[]>();
    for (const [i, response] of w.responses.entries()) {
      const first = response[0];
      if (first !== undefined && first.revision <= last) {
        violations.push(
          `watcher ${w.id}: response ${i} starts at revision ${first.revision} after ${last} (order)`,
        );
      }
      let previous = 0;
      for (const e of response) {
        events++;
        if (e.revision < previous)
          violations.push(`watcher ${w.id}: ${eventText(e)} goes back within a response`);
        previous = e.revision;
        const id = `${e.revision}/${e.kv.key}`;
        if (seen.has(id)) violations.push(`watcher ${w.id}: duplicate event ${eventText(e)} (unique)`);
        seen.add(id);
        if (perRevision.has(e.revision) && e.revision <= last) {
          violations.push(`watcher ${w.id}: revision ${e.revision} split across responses (atomic)`);
        }
        const list = perRevision.get(e.revision) ?? [];
        list.push(e);
        perRevision.set(e.revision, list);
        if (e.type === "put" && (e.kv.version === 1) !== (e.kv.createRevision === e.kv.modRevision)) {
          violations.push(
            `watcher ${w.id}: ${eventText(e)} has version ${e.kv.version} but create revision ${e.kv.createRevision}`,
          );
        }
      }
      last = Math.max(last, previous);
    }
    for (const [revision, list] of perRevision) {
      const known = log.get(revision);
      if (known === undefined) {
        log.set(revision, { watcher: w.id, events: list });
        continue;
      }
      const a = known.events.map(eventText).sort().join("; ");
      const b = list.map(eventText).sort().join("; ");
      if (a !== b) {
        violations.push(
          `revision ${revision}: watcher ${known.watcher} saw [${a}] but watcher ${w.id} saw [${b}]`,
        );
      }
    }
    // Reliable: every revision from the start (after revision 1, the empty cluster) to the end.
    const from = Math.max(2, w.startRevision === 0 ? (w.createdRevision ?? 0) + 1 : w.startRevision);
    const to = w.compactedAt === undefined ? input.finalRevision : Math.max(0, ...perRevision.keys());
    const missing: number[] = [];
    if (known === undefined) {
      for (let r = from; r <= to; r++) if (!perRevision.has(r)) missing.push(r);
    } else {
      for (const r of known) if (r >= from && r <= to && !perRevision.has(r)) missing.push(r);
    }
    if (missing.length > 0) {
      violations.push(
        `watcher ${w.id} (from ${w.startRevision}, ${w.resumes} resumes) missed revisions ${summarize(missing)} of ${from}..${to} (reliable)`,
      );
    }
  }
  // Atomic, whole: every watcher that has a revision has all its events (the merged log is the union).
  // prev_kv: the previous version of the key in the merged log.
  const revisions = [...log.keys()].sort((a, b) => a - b);
  const start = input.keyspaceStart ?? 1;
  const complete = shared
    ? input.watchers.some((w) => watchStart(w) <= start && w.compactedAt === undefined)
    : revisions.every((r, i) => r === i + 2);
  const latest = new Map<string, KeyValue | undefined>();
  for (const revision of revisions) {
    const entry = log.get(revision);
    if (entry === undefined) continue;
    for (const e of entry.events) {
      if (complete) {
        const expected = latest.get(e.kv.key);
        if (e.prevKv !== undefined && !sameKv(e.prevKv, expected)) {
          violations.push(
            `${eventText(e)}: prev_kv ${JSON.stringify(e.prevKv)} but the key was ${JSON.stringify(expected)}`,
          );
        }
        if (e.prevKv === undefined && expected !== undefined && !input.compacted) {
          violations.push(`${eventText(e)}: prev_kv missing, the key was ${JSON.stringify(expected)}`);
        }
        if (e.type === "put" && expected === undefined && e.kv.version !== 1) {
          violations.push(`${eventText(e)}: creates the key but has version ${e.kv.version}`);
        }
      }
      latest.set(e.kv.key, e.type === "put" ? e.kv : undefined);
    }
  }
  violations.push(...checkWritesInLog(input.history, log));
  return { violations, events, revisions: log.size };
}

function knownRevisions(input: WatchCheckInput): number[] {
  const revisions = new Set<number>();
  for (const w of input.watchers) for (const r of w.responses) for (const e of r) revisions.add(e.revision);
  for (const op of input.history) {
    const out = op.output;
    const request = op.input;
    if (out?.type === "put") revisions.add(out.revision);
    if (out?.type === "delete" && out.deleted > 0) revisions.add(out.revision);
    if (out?.type === "txn" && request.type === "txn") {
      const branch = out.succeeded ? request.success : request.failure;
      const deleted = out.results.some((r) => r.type === "delete" && r.deleted > 0);
      if (deleted || branch.some((t) => t.type === "put")) revisions.add(out.revision);
    }
  }
  return [...revisions].sort((a, b) => a - b);
}

/** checkWritesInLog: each acknowledged put/delete is in the log at its revision; each put event was sent. */
function checkWritesInLog(
  history: readonly EtcdOperation[],
  log: ReadonlyMap<number, { watcher: number; events: WatchEvent[] }>,
): string[] {
  const violations: string[] = [];
  const sent = new Set<string>();
  for (const op of history) {
    const r = op.input;
    if (r.type === "put") sent.add(r.value);
    if (r.type === "txn")
      for (const t of [...r.success, ...r.failure]) if (t.type === "put") sent.add(t.value);
    const out = op.output;
    if (out === undefined || out.type === "error") continue;
    const puts: Array<{ key: string; value: string }> = [];
    if (r.type === "put" && out.type === "put") puts.push({ key: r.key, value: r.value });
    if (r.type === "txn" && out.type === "txn") {
      for (const t of out.succeeded ? r.success : r.failure)
        if (t.type === "put") puts.push({ key: t.key, value: t.value });
    }
    const entry = log.get(out.revision);
    if (entry === undefined) continue; // no watcher covered this revision (compacted away)
    for (const p of puts) {
      if (!entry.events.some((e) => e.type === "put" && e.kv.key === p.key && e.kv.value === p.value)) {
        violations.push(
          `acknowledged put ${p.key}=${JSON.stringify(p.value)} at revision ${out.revision} is not in the watch log`,
        );
      }
    }
    if (r.type === "delete" && out.type === "delete" && out.deleted > 0) {
      if (!entry.events.some((e) => e.type === "delete" && e.kv.key === r.key)) {
        violations.push(
          `acknowledged delete of ${r.key} at revision ${out.revision} is not in the watch log`,
        );
      }
    }
  }
  for (const [revision, entry] of log) {
    for (const e of entry.events) {
      if (e.type === "put" && !sent.has(e.kv.value)) {
        violations.push(`watch event ${eventText(e)} at ${revision} carries a value no client wrote`);
      }
    }
  }
  return violations;
}

function summarize(revisions: readonly number[]): string {
  if (revisions.length <= 8) return revisions.join(",");
  return `${revisions.slice(0, 8).join(",")},... (${revisions.length} in all)`;
}
