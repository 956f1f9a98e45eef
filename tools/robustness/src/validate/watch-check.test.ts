import { describe, expect, it } from "vitest";
import type { EtcdOperation } from "../checker/etcd-linearizability.js";
import type { KeyValue } from "../model/etcd-types.js";
import type { WatchEvent, WatchRecord } from "../traffic/watcher.js";
import { checkWatches } from "./watch-check.js";

const kv = (key: string, value: string, mod: number, create = mod, version = 1): KeyValue => ({
  key,
  value,
  modRevision: mod,
  createRevision: create,
  version,
  lease: 0,
});
const put = (k: KeyValue, prevKv?: KeyValue): WatchEvent => ({
  type: "put",
  revision: k.modRevision,
  kv: k,
  prevKv,
});
const del = (key: string, revision: number, prevKv?: KeyValue): WatchEvent => ({
  type: "delete",
  revision,
  kv: kv(key, "", revision, 0, 0),
  prevKv,
});

const record = (id: number, startRevision: number, responses: WatchEvent[][]): WatchRecord => ({
  id,
  startRevision,
  responses,
  resumes: 0,
  compactedAt: undefined,
  createdRevision: 1,
  errors: [],
});

const a2 = kv("a", "1", 2);
const b3 = kv("b", "2", 3);
const a4 = kv("a", "3", 4, 2, 2);
const good = [[put(a2)], [put(b3)], [put(a4, a2)], [del("b", 5, b3)]];
const history: EtcdOperation[] = [
  {
    clientId: 0,
    call: 0,
    return: 1,
    input: { type: "put", key: "a", value: "1" },
    output: { type: "put", revision: 2 },
  },
  {
    clientId: 0,
    call: 2,
    return: 3,
    input: { type: "put", key: "b", value: "2" },
    output: { type: "put", revision: 3 },
  },
  {
    clientId: 0,
    call: 4,
    return: 5,
    input: { type: "put", key: "a", value: "3" },
    output: { type: "put", revision: 4 },
  },
  {
    clientId: 0,
    call: 6,
    return: 7,
    input: { type: "delete", key: "b" },
    output: { type: "delete", revision: 5, deleted: 1 },
  },
];
const check = (watchers: WatchRecord[]) =>
  checkWatches({ watchers, finalRevision: 5, history, compacted: false });

describe("checkWatches", () => {
  it("accepts complete, ordered streams (also one that starts later)", () => {
    const result = check([record(0, 1, good), record(1, 4, good.slice(2))]);
    expect(result.violations).toEqual([]);
    expect(result.revisions).toBe(4);
  });

  it("catches a gap (reliable), a duplicate (unique) and a reordering (ordered)", () => {
    expect(check([record(0, 1, [good[0]!, good[2]!, good[3]!])]).violations.join()).toMatch(
      /missed revisions 3/,
    );
    expect(check([record(0, 1, [...good, good[3]!])]).violations.join()).toMatch(/unique|order/);
    expect(check([record(0, 1, [good[1]!, good[0]!, good[2]!, good[3]!])]).violations.join()).toMatch(
      /order/,
    );
  });

  it("catches a wrong prev_kv, a split revision and disagreeing watchers", () => {
    const wrongPrev = [good[0]!, good[1]!, [put(a4, b3)], good[3]!];
    expect(check([record(0, 1, wrongPrev)]).violations.join()).toMatch(/prev_kv/);
    const other = [good[0]!, good[1]!, [put(kv("a", "X", 4, 2, 2), a2)], good[3]!];
    expect(check([record(0, 1, good), record(1, 1, other)]).violations.join()).toMatch(/saw/);
  });

  it("catches an acknowledged write missing from the log and a value nobody wrote", () => {
    const lost = [good[0]!, [put(kv("b", "nobody", 3))], good[2]!, [del("b", 5, kv("b", "nobody", 3))]];
    const violations = check([record(0, 1, lost)]).violations.join("\n");
    expect(violations).toMatch(/acknowledged put b="2" at revision 3 is not in the watch log/);
    expect(violations).toMatch(/no client wrote/);
  });

  it("with keyspaceStart, revisions written outside the watched keys are not gaps, known ones are", () => {
    // The watched keys are fresh from revision 10; revisions 11 and 13 belong to other keys.
    const c10 = kv("c", "x", 10);
    const c12 = kv("c", "y", 12, 10, 2);
    const shared: EtcdOperation[] = [
      {
        clientId: 0,
        call: 0,
        return: 1,
        input: { type: "put", key: "c", value: "x" },
        output: { type: "put", revision: 10 },
      },
      {
        clientId: 0,
        call: 2,
        return: 3,
        input: { type: "put", key: "c", value: "y" },
        output: { type: "put", revision: 12 },
      },
      {
        clientId: 0,
        call: 4,
        return: 5,
        input: { type: "delete", key: "c" },
        output: { type: "delete", revision: 14, deleted: 1 },
      },
    ];
    const log = [[put(c10)], [put(c12, c10)], [del("c", 14, c12)]];
    const checkShared = (watchers: WatchRecord[]) =>
      checkWatches({ watchers, finalRevision: 14, history: shared, compacted: false, keyspaceStart: 10 })
        .violations;
    expect(checkShared([record(0, 10, log), record(1, 12, log.slice(1))])).toEqual([]);
    // Revision 12 is an acknowledged write on the watched keys: skipping it is a gap.
    expect(checkShared([record(0, 10, log), record(1, 11, [log[2]!])]).join()).toMatch(/missed revisions 12/);
    // prev_kv is still checked when a watcher covers the keyspace from its start.
    expect(checkShared([record(0, 10, [log[0]!, [put(c12, kv("c", "z", 10))], log[2]!])]).join()).toMatch(
      /prev_kv/,
    );
  });
});
