import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EtcdRequest, EtcdResponse, KeyValue } from "../model/etcd-types.js";
import { checkEtcdHistory, type EtcdOperation, partitionHistory } from "./etcd-linearizability.js";
import { anomalyKinds, generateHistory, injectAnomaly } from "./history-generator.js";

const kv = (key: string, value: string, mod: number, create = mod, version = 1, lease = 0): KeyValue => ({
  key,
  value,
  modRevision: mod,
  createRevision: create,
  version,
  lease,
});

function op(
  clientId: number,
  call: number,
  ret: number | undefined,
  input: EtcdRequest,
  output: EtcdResponse | undefined,
): EtcdOperation {
  return { clientId, call, return: ret ?? Number.POSITIVE_INFINITY, input, output };
}

const put = (key: string, value: string, lease?: number): EtcdRequest =>
  lease === undefined ? { type: "put", key, value } : { type: "put", key, value, lease };
const get = (key: string): EtcdRequest => ({ type: "range", key });
const putOk = (revision: number): EtcdResponse => ({ type: "put", revision });
const got = (revision: number, ...kvs: KeyValue[]): EtcdResponse => ({ type: "range", revision, kvs });

describe("hand-made histories", () => {
  it("accepts a sequential put then get", () => {
    const report = checkEtcdHistory([
      op(0, 0, 1, put("a", "1"), putOk(1)),
      op(1, 2, 3, get("a"), got(1, kv("a", "1", 1))),
    ]);
    expect(report.verdict).toBe("ok");
  });

  it("accepts a read concurrent with a write seeing either value", () => {
    for (const seen of [got(1), got(2, kv("a", "1", 2))]) {
      const report = checkEtcdHistory([
        op(0, 0, 1, put("b", "x"), putOk(1)),
        op(0, 2, 10, put("a", "1"), putOk(2)),
        op(1, 3, 5, get("a"), seen),
      ]);
      expect(report.verdict).toBe("ok");
    }
  });

  it("rejects a stale read after the write returned", () => {
    const report = checkEtcdHistory([
      op(0, 0, 1, put("a", "1"), putOk(1)),
      op(0, 2, 3, put("a", "2"), putOk(2)),
      op(1, 4, 5, get("a"), got(2, kv("a", "1", 1))),
    ]);
    expect(report.verdict).toBe("illegal");
  });

  it("rejects two reads that see the writes in opposite orders (non-linearizable, revisions hidden)", () => {
    // Both writes concurrent with both reads; reader 2 sees 1 after reader 1 saw 2 (which came later).
    const report = checkEtcdHistory(
      [
        op(0, 0, 10, put("a", "1"), undefined),
        op(1, 0, 10, put("a", "2"), undefined),
        op(2, 1, 2, get("a"), got(7, kv("a", "2", 7, 6, 2))),
        op(3, 3, 4, get("a"), got(7, kv("a", "1", 6, 6, 1))),
      ],
      { partition: false },
    );
    expect(report.verdict).toBe("illegal");
  });

  it("lets an unanswered write take effect late, or never", () => {
    const history = [
      op(0, 0, undefined, put("a", "1"), undefined),
      op(1, 5, 6, get("a"), got(0)),
      op(1, 7, 8, get("a"), got(1, kv("a", "1", 1))),
    ];
    expect(checkEtcdHistory(history).verdict).toBe("ok");
    expect(checkEtcdHistory(history.slice(0, 2)).verdict).toBe("ok");
  });

  it("rejects an unanswered write that is seen and then unseen", () => {
    const report = checkEtcdHistory([
      op(0, 0, undefined, put("a", "1"), undefined),
      op(1, 5, 6, get("a"), got(1, kv("a", "1", 1))),
      op(1, 7, 8, get("a"), got(1)),
    ]);
    expect(report.verdict).toBe("illegal");
  });

  it("checks compare-and-set on the mod revision", () => {
    const cas = (expected: number, value: string): EtcdRequest => ({
      type: "txn",
      compare: [{ key: "a", target: "mod", result: "=", value: expected }],
      success: [{ type: "put", key: "a", value }],
      failure: [{ type: "range", key: "a" }],
    });
    const ok = checkEtcdHistory([
      op(0, 0, 1, put("a", "1"), putOk(1)),
      op(0, 2, 3, cas(1, "2"), { type: "txn", revision: 2, succeeded: true, results: [{ type: "put" }] }),
      op(1, 4, 5, cas(1, "3"), {
        type: "txn",
        revision: 2,
        succeeded: false,
        results: [{ type: "range", kvs: [kv("a", "2", 2, 1, 2)] }],
      }),
    ]);
    expect(ok.verdict).toBe("ok");
    const bad = checkEtcdHistory([
      op(0, 0, 1, put("a", "1"), putOk(1)),
      op(0, 2, 3, cas(1, "2"), { type: "txn", revision: 2, succeeded: true, results: [{ type: "put" }] }),
      op(1, 4, 5, cas(1, "3"), { type: "txn", revision: 3, succeeded: true, results: [{ type: "put" }] }),
    ]);
    expect(bad.verdict).toBe("illegal");
  });

  it("binds the revision of an unanswered write from a CAS that relied on it", () => {
    const report = checkEtcdHistory([
      op(0, 0, undefined, put("a", "1"), undefined),
      op(
        1,
        5,
        6,
        {
          type: "txn",
          compare: [{ key: "a", target: "mod", result: "=", value: 4 }],
          success: [{ type: "put", key: "a", value: "2" }],
          failure: [],
        },
        { type: "txn", revision: 5, succeeded: true, results: [{ type: "put" }] },
      ),
      op(1, 7, 8, get("a"), got(5, kv("a", "2", 5, 4, 2))),
    ]);
    expect(report.verdict).toBe("ok");
  });

  it("checks leases: revoke deletes attached keys, a put with a revoked lease fails", () => {
    const ok = checkEtcdHistory([
      op(0, 0, 1, put("a", "1", 77), putOk(1)),
      op(0, 2, 3, { type: "leaseRevoke", lease: 77 }, { type: "leaseRevoke", revision: 2 }),
      op(1, 4, 5, get("a"), got(2)),
      op(1, 6, 7, put("a", "2", 77), { type: "error", error: "lease not found" }),
    ]);
    expect(ok.verdict).toBe("ok");
    const kept = checkEtcdHistory([
      op(0, 0, 1, put("a", "1", 77), putOk(1)),
      op(0, 2, 3, { type: "leaseRevoke", lease: 77 }, { type: "leaseRevoke", revision: 2 }),
      op(1, 4, 5, get("a"), got(2, kv("a", "1", 1, 1, 1, 77))),
    ]);
    expect(kept.verdict).toBe("illegal");
  });

  it("checks stale reads at a revision against the key's history", () => {
    const history = (seen: EtcdResponse) => [
      op(0, 0, 1, put("a", "1"), putOk(1)),
      op(0, 2, 3, put("a", "2"), putOk(2)),
      op(1, 4, 5, { type: "range", key: "a", revision: 1 }, seen),
    ];
    expect(checkEtcdHistory(history(got(2, kv("a", "1", 1)))).verdict).toBe("ok");
    expect(checkEtcdHistory(history(got(2, kv("a", "2", 2, 2, 2)))).verdict).toBe("illegal");
  });

  it("checks lists over several keys", () => {
    const list: EtcdRequest = { type: "range", key: "a", end: "c" };
    const base = [op(0, 0, 1, put("a", "1"), putOk(1)), op(0, 2, 3, put("b", "2"), putOk(2))];
    expect(
      checkEtcdHistory([...base, op(1, 4, 5, list, got(2, kv("a", "1", 1), kv("b", "2", 2)))]).verdict,
    ).toBe("ok");
    expect(checkEtcdHistory([...base, op(1, 4, 5, list, got(2, kv("a", "1", 1)))]).verdict).toBe("illegal");
  });

  it("flags a header revision that goes back in real time", () => {
    const report = checkEtcdHistory([op(0, 0, 1, put("a", "1"), putOk(5)), op(1, 2, 3, get("b"), got(4))]);
    expect(report.verdict).toBe("illegal");
    expect(report.revisionViolations.length).toBe(1);
  });

  it("rejects an unanswered txn that wrote its keys at different revisions, or only some of them", () => {
    const multiPut: EtcdRequest = {
      type: "txn",
      compare: [],
      success: [
        { type: "put", key: "a", value: "1" },
        { type: "put", key: "b", value: "1" },
      ],
      failure: [],
    };
    const open = op(0, 0, undefined, multiPut, undefined);
    const seenA = op(1, 5, 6, get("a"), got(3, kv("a", "1", 2)));
    // Both puts at revision 2: fine. Only one of them, or at two revisions: not one atomic txn.
    expect(checkEtcdHistory([open, seenA, op(1, 7, 8, get("b"), got(3, kv("b", "1", 2)))]).verdict).toBe(
      "ok",
    );
    expect(checkEtcdHistory([open, seenA, op(1, 7, 8, get("b"), got(3))]).verdict).toBe("illegal");
    expect(checkEtcdHistory([open, seenA, op(1, 7, 8, get("b"), got(3, kv("b", "1", 3)))]).verdict).toBe(
      "illegal",
    );
  });

  it("rejects an unanswered revoke that deleted only some of its keys", () => {
    const report = checkEtcdHistory([
      op(0, 0, 1, put("a", "1", 77), putOk(1)),
      op(0, 2, 3, put("b", "1", 77), putOk(2)),
      op(0, 4, undefined, { type: "leaseRevoke", lease: 77 }, undefined),
      op(1, 10, 11, get("a"), got(3)),
      op(1, 12, 13, get("b"), got(3, kv("b", "1", 2, 2, 1, 77))),
    ]);
    expect(report.verdict).toBe("illegal");
  });

  it("bounds the revision of an unanswered write by the operations linearized after it", () => {
    // The unanswered put created "a" before put(a, 2) got revision 5, so its revision is below 5.
    const history = (create: number) => [
      op(0, 0, undefined, put("a", "1"), undefined),
      op(1, 1, 2, put("a", "2"), putOk(5)),
      op(1, 3, 4, get("a"), got(5, kv("a", "2", 5, create, 2))),
    ];
    expect(checkEtcdHistory(history(3)).verdict).toBe("ok");
    expect(checkEtcdHistory(history(7)).verdict).toBe("illegal");
  });

  it("drops unanswered writes the watch log says were never applied, and only those", () => {
    const history = [
      op(0, 0, undefined, put("a", "1"), undefined),
      op(1, 0, undefined, put("b", "1"), undefined),
      op(2, 5, 6, get("a"), got(3, kv("a", "1", 2))),
    ];
    const report = checkEtcdHistory(history, { persistedValues: new Set(["1"]) });
    expect(report.verdict).toBe("ok");
    expect(report.operations.length).toBe(3); // "1" was applied, by one of the two puts: neither is dropped
    const single = [
      op(0, 0, undefined, put("a", "x"), undefined),
      op(1, 1, undefined, put("a", "y"), undefined),
    ];
    const seen = [...single, op(2, 5, 6, get("a"), got(3, kv("a", "y", 3)))];
    expect(checkEtcdHistory(seen, { persistedValues: new Set(["y"]) }).operations.length).toBe(2);
    expect(checkEtcdHistory(seen, { persistedValues: new Set(["y"]) }).verdict).toBe("ok");
    // A log that misses a value which was read cannot make the history pass: the read becomes a phantom.
    expect(checkEtcdHistory(seen, { persistedValues: new Set(["x"]) }).verdict).toBe("illegal");
  });

  it("partitions by key, keeping an unanswered multi-key CAS together", () => {
    const parts = partitionHistory([
      op(0, 0, 1, put("a", "1"), putOk(1)),
      op(0, 0, 1, put("b", "1"), putOk(2)),
      op(0, 0, 1, put("c", "1"), putOk(3)),
      op(
        1,
        2,
        undefined,
        {
          type: "txn",
          compare: [{ key: "a", target: "value", result: "=", value: "1" }],
          success: [{ type: "put", key: "b", value: "2" }],
          failure: [],
        },
        undefined,
      ),
    ]);
    expect(parts.map((p) => p.keys).sort()).toEqual([["a", "b"], ["c"]]);
  });
});

const seeded = { seed: 20260914, numRuns: Number(process.env.CHECKER_RUNS ?? 120) };

describe("generated histories", () => {
  it("a history from a sequential run is linearizable (with overlapping intervals and lost answers)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 8 }), (seed, clients) => {
        const generated = generateHistory(seed, { operations: 150, clients, keys: 4, openRate: 0.1 });
        const report = checkEtcdHistory(generated.operations, { timeoutMs: 20_000 });
        expect(report.verdict, JSON.stringify(report.revisionViolations)).toBe("ok");
      }),
      seeded,
    );
  });

  it("the unpartitioned search agrees on small histories (partitioning loses nothing here)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.boolean(), fc.nat(), (seed, broken, pick) => {
        const generated = generateHistory(seed, { operations: 40, clients: 4, keys: 3, openRate: 0.1 });
        const history = broken ? injectAnomaly(generated, "stale-read", pick) : generated.operations;
        fc.pre(history !== undefined);
        const parted = checkEtcdHistory(history as EtcdOperation[], { timeoutMs: 20_000 });
        const whole = checkEtcdHistory(history as EtcdOperation[], { partition: false, timeoutMs: 20_000 });
        expect(whole.verdict).toBe(parted.verdict);
        expect(parted.verdict).toBe(broken ? "illegal" : "ok");
      }),
      { ...seeded, numRuns: Math.ceil(seeded.numRuns / 2) },
    );
  });

  for (const kind of anomalyKinds) {
    it(`one injected ${kind} is always caught`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.nat(), (seed, pick) => {
          const generated = generateHistory(seed, { operations: 120, clients: 6, keys: 3, openRate: 0.1 });
          const broken = injectAnomaly(generated, kind, pick);
          fc.pre(broken !== undefined);
          expect(checkEtcdHistory(broken as EtcdOperation[], { timeoutMs: 20_000 }).verdict).toBe("illegal");
        }),
        { ...seeded, numRuns: Math.ceil(seeded.numRuns / 2) },
      );
    });
  }
});
