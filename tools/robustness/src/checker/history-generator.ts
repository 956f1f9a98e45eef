import type { EtcdRequest, EtcdResponse, KeyValue, TxnOp } from "../model/etcd-types.js";
import { ReferenceEtcd } from "../model/reference-etcd.js";
import { Random } from "../random.js";
import type { EtcdOperation } from "./etcd-linearizability.js";

/** GeneratorOptions shape a generated history. */
export interface GeneratorOptions {
  readonly operations: number;
  readonly clients: number;
  readonly keys: number;
  /** openRate is the share of requests whose answer is lost (half of those writes still took effect). */
  readonly openRate: number;
}

/** GeneratedHistory is a history from a sequential run plus what anomaly injection needs to know. */
export interface GeneratedHistory {
  readonly operations: EtcdOperation[];
  /** previous[i] is the live version of the key a put at i overwrote (undefined when none). */
  readonly previous: ReadonlyMap<number, KeyValue | undefined>;
  /** writerOf maps a value to the index of the put that wrote it. */
  readonly writerOf: ReadonlyMap<string, number>;
}

/**
 * generateHistory runs random etcd traffic on a sequential reference and turns it into a concurrent
 * history: each request gets a linearization point in order, and an interval [call, return] around it
 * that is free on its client, so intervals overlap while respecting real time. The result is
 * linearizable by construction.
 */
export function generateHistory(seed: number, options: GeneratorOptions): GeneratedHistory {
  const rng = new Random(seed);
  const ref = new ReferenceEtcd();
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);
  const granted: number[] = [];
  const freeAt = new Array<number>(options.clients).fill(0);
  const operations: EtcdOperation[] = [];
  const previous = new Map<number, KeyValue | undefined>();
  const writerOf = new Map<string, number>();
  let t = 0;
  let valueSeq = 0;
  for (let i = 0; i < options.operations; i++) {
    const request = randomRequest(rng, ref, keys, granted, () => `v${valueSeq++}`);
    const readOnly = request.type === "range";
    const open = rng.chance(options.openRate);
    const happens = !open || readOnly || rng.chance(0.5);
    const before = request.type === "put" ? ref.get(request.key) : undefined;
    const response: EtcdResponse | undefined = happens ? ref.apply(request) : undefined;
    if (response?.type === "leaseGrant") granted.push(response.lease);
    let client = 0;
    for (let c = 1; c < freeAt.length; c++) if ((freeAt[c] ?? 0) < (freeAt[client] ?? 0)) client = c;
    t = Math.max(t + 1 + rng.int(10), (freeAt[client] ?? 0) + 1);
    const call = Math.max((freeAt[client] ?? 0) + 0.5, t - rng.int(25));
    const returned = t + rng.int(25);
    freeAt[client] = returned;
    const index = operations.length;
    if (request.type === "put") {
      previous.set(index, before);
      writerOf.set(request.value, index);
    }
    operations.push({
      clientId: client,
      input: request,
      call,
      output: open ? undefined : response,
      return: open ? Number.POSITIVE_INFINITY : returned,
    });
  }
  return { operations, previous, writerOf };
}

function randomRequest(
  rng: Random,
  ref: ReferenceEtcd,
  keys: readonly string[],
  granted: readonly number[],
  nextValue: () => string,
): EtcdRequest {
  const kind = rng.weighted({
    get: 15,
    put: 20,
    txn: 10,
    stale: 10,
    list: 15,
    delete: 5,
    leasePut: 5,
    revoke: 5,
    cas: 5,
    grant: 3,
  });
  const key = rng.pick(keys);
  switch (kind) {
    case "get":
      return { type: "range", key };
    case "put":
      return { type: "put", key, value: nextValue() };
    case "stale":
      return ref.revision === 0
        ? { type: "range", key }
        : { type: "range", key, revision: rng.between(1, ref.revision) };
    case "list":
      return { type: "range", key: "k", end: "l" };
    case "delete":
      return { type: "delete", key };
    case "leasePut": {
      const live = ref.liveLeases();
      if (granted.length === 0) return { type: "leaseGrant", ttlSeconds: 3600 };
      const lease = live.length > 0 && rng.chance(0.8) ? rng.pick(live) : rng.pick(granted);
      return { type: "put", key, value: nextValue(), lease };
    }
    case "revoke":
      if (granted.length === 0) return { type: "leaseGrant", ttlSeconds: 3600 };
      return { type: "leaseRevoke", lease: rng.pick(granted) };
    case "grant":
      return { type: "leaseGrant", ttlSeconds: 3600 };
    case "cas": {
      const mod = ref.get(key)?.modRevision ?? 0;
      return {
        type: "txn",
        compare: [{ key, target: "mod", result: "=", value: rng.chance(0.7) ? mod : mod + 1 }],
        success: [{ type: "put", key, value: nextValue() }],
        failure: [{ type: "range", key }],
      };
    }
    case "txn": {
      const chosen = [...keys].sort(() => rng.next() - 0.5).slice(0, rng.between(2, 3));
      const ops: TxnOp[] = chosen.map((k) => {
        const what = rng.int(3);
        return what === 0
          ? { type: "put", key: k, value: nextValue() }
          : what === 1
            ? { type: "range", key: k }
            : { type: "delete", key: k };
      });
      return { type: "txn", compare: [], success: ops, failure: [] };
    }
  }
}

/** AnomalyKind names one way to break a linearizable history. */
export type AnomalyKind =
  | "stale-read"
  | "phantom-value"
  | "duplicate-revision"
  | "revision-regression"
  | "put-after-revoke";

/** anomalyKinds lists every kind `injectAnomaly` knows. */
export const anomalyKinds: readonly AnomalyKind[] = [
  "stale-read",
  "phantom-value",
  "duplicate-revision",
  "revision-regression",
  "put-after-revoke",
];

/**
 * injectAnomaly changes one answer of a generated history so that no linearization exists; returns
 * undefined when this history has no place for that kind of anomaly. `pick` chooses among candidates.
 */
export function injectAnomaly(
  generated: GeneratedHistory,
  kind: AnomalyKind,
  pick: number,
): EtcdOperation[] | undefined {
  const ops = generated.operations.map((op) => ({ ...op }));
  const candidates: number[] = [];
  const definite = (i: number) => ops[i]?.output !== undefined;
  const choose = () => candidates[pick % candidates.length];
  switch (kind) {
    case "stale-read": {
      // A get that returns a value whose (answered) writer returned before the get was called, and whose
      // key held another live value just before: that older value can never be read again.
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        if (op?.input.type !== "range" || op.input.end !== undefined || op.input.revision !== undefined)
          continue;
        if (op.output?.type !== "range") continue;
        const kv = op.output.kvs[0];
        if (kv === undefined) continue;
        const writer = generated.writerOf.get(kv.value);
        if (writer === undefined || !definite(writer)) continue;
        const w = ops[writer];
        if (w === undefined || w.return >= op.call) continue;
        if (generated.previous.get(writer) === undefined) continue;
        candidates.push(i);
      }
      const i = choose();
      if (i === undefined) return undefined;
      const op = ops[i] as EtcdOperation;
      const output = op.output as Extract<EtcdResponse, { type: "range" }>;
      const writer = generated.writerOf.get(output.kvs[0]?.value ?? "") as number;
      ops[i] = { ...op, output: { ...output, kvs: [generated.previous.get(writer) as KeyValue] } };
      return ops;
    }
    case "phantom-value": {
      for (let i = 0; i < ops.length; i++) {
        const out = ops[i]?.output;
        if (out?.type === "range" && out.kvs.length > 0) candidates.push(i);
      }
      const i = choose();
      if (i === undefined) return undefined;
      const op = ops[i] as EtcdOperation;
      const output = op.output as Extract<EtcdResponse, { type: "range" }>;
      const [first, ...rest] = output.kvs;
      ops[i] = { ...op, output: { ...output, kvs: [{ ...(first as KeyValue), value: "phantom" }, ...rest] } };
      return ops;
    }
    case "duplicate-revision": {
      for (let i = 0; i < ops.length; i++) if (ops[i]?.output?.type === "put") candidates.push(i);
      if (candidates.length < 2) return undefined;
      const a = candidates[pick % candidates.length] as number;
      const b = candidates[(pick + 1) % candidates.length] as number;
      const opB = ops[b] as EtcdOperation;
      const revA = ((ops[a] as EtcdOperation).output as { revision: number }).revision;
      ops[b] = { ...opB, output: { type: "put", revision: revA } };
      return ops;
    }
    case "revision-regression": {
      // An answer whose header revision is below one returned before it was even sent.
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        if (op?.output === undefined || op.output.type === "error" || op.output.type === "leaseGrant")
          continue;
        const before = ops.some(
          (o) =>
            o.return < op.call &&
            o.output !== undefined &&
            o.output.type !== "error" &&
            o.output.type !== "leaseGrant" &&
            (o.output as { revision: number }).revision > 0,
        );
        if (before) candidates.push(i);
      }
      const i = choose();
      if (i === undefined) return undefined;
      const op = ops[i] as EtcdOperation;
      let high = 0;
      for (const o of ops) {
        if (
          o.return < op.call &&
          o.output !== undefined &&
          o.output.type !== "error" &&
          o.output.type !== "leaseGrant"
        ) {
          high = Math.max(high, (o.output as { revision: number }).revision);
        }
      }
      ops[i] = { ...op, output: { ...(op.output as EtcdResponse), revision: high - 1 } as EtcdResponse };
      return ops;
    }
    case "put-after-revoke": {
      // A put with a lease answered "lease not found" after the revoke returned: claim it succeeded.
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        if (op?.input.type !== "put" || op.output?.type !== "error") continue;
        const lease = op.input.lease;
        const revoked = ops.some(
          (o) =>
            o.input.type === "leaseRevoke" &&
            o.input.lease === lease &&
            o.output?.type === "leaseRevoke" &&
            o.return < op.call,
        );
        if (revoked) candidates.push(i);
      }
      const i = choose();
      if (i === undefined) return undefined;
      const op = ops[i] as EtcdOperation;
      ops[i] = { ...op, output: { type: "put", revision: 1_000_000 + i } };
      return ops;
    }
  }
}
