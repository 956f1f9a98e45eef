import { describe, expect, it } from "vitest";
import type { EtcdOperation } from "../checker/etcd-linearizability.js";
import type { WatchRecord } from "../traffic/watcher.js";
import { checkWindow, type WindowCheckInput } from "./window-check.js";

// A window in the middle of a soak: its keys are fresh at revision 100; revision 101 went to another window.
const a100 = { key: "w3/key/a", value: "1", modRevision: 100, createRevision: 100, version: 1, lease: 0 };
const a102 = { ...a100, value: "2", modRevision: 102, version: 2 };
const put = (call: number, value: string, revision: number): EtcdOperation => ({
  clientId: 0,
  call,
  return: call + 1,
  input: { type: "put", key: "w3/key/a", value },
  output: { type: "put", revision },
});
const watcher: WatchRecord = {
  id: 0,
  startRevision: 100,
  responses: [
    [{ type: "put", revision: 100, kv: a100, prevKv: undefined }],
    [{ type: "put", revision: 102, kv: a102, prevKv: a100 }],
  ],
  resumes: 0,
  compactedAt: undefined,
  createdRevision: 99,
  errors: [],
};
const input = (history: EtcdOperation[]): WindowCheckInput => ({
  title: "window 3",
  history,
  watchers: [watcher],
  keyspaceStart: 100,
  finalRevision: 102,
  compacted: false,
  checkerTimeoutMs: 10_000,
  notes: ["fault 7: SIGKILL m2"],
});

describe("checkWindow", () => {
  it("accepts a window whose keys start mid-cluster and share revisions with other windows", () => {
    const result = checkWindow(input([put(0, "1", 100), put(2, "2", 102)]));
    expect(result.violations).toEqual([]);
    expect(result.verdict).toBe("ok");
    expect(result.operationsChecked).toBe(2);
    expect(result.watchEvents).toBe(2);
    expect(result.reportHtml).toBeUndefined();
  });

  it("catches a stale read and reports it with the window's notes", () => {
    const stale: EtcdOperation = {
      clientId: 1,
      call: 4,
      return: 5,
      input: { type: "range", key: "w3/key/a" },
      output: { type: "range", revision: 100, kvs: [a100] },
    };
    const result = checkWindow(input([put(0, "1", 100), put(2, "2", 102), stale]));
    expect(result.verdict).toBe("illegal");
    expect(result.violations.join("\n")).toMatch(/not linearizable|revision/);
    expect(result.reportHtml).toContain("fault 7: SIGKILL m2");
  });
});
