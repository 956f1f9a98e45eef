import { describe, expect, it } from "vitest";
import { checkEtcdHistory, type EtcdOperation, renderHtmlReport } from "./index.js";

// The README's example, verbatim apart from the import path.
describe("README example", () => {
  it("finds the stale read", () => {
    const kv = { key: "a", value: "1", modRevision: 2, createRevision: 2, version: 1, lease: 0 };
    const history: EtcdOperation[] = [
      {
        clientId: 0,
        call: 0,
        return: 10,
        input: { type: "put", key: "a", value: "1" },
        output: { type: "put", revision: 2 },
      },
      {
        clientId: 1,
        call: 5,
        return: 15,
        input: { type: "range", key: "a" },
        output: { type: "range", revision: 2, kvs: [kv] },
      },
      // Starts after the put returned, yet does not see it: a stale read.
      {
        clientId: 2,
        call: 20,
        return: 30,
        input: { type: "range", key: "a" },
        output: { type: "range", revision: 1, kvs: [] },
      },
    ];
    const report = checkEtcdHistory(history);
    expect(report.verdict).toBe("illegal");
    const html = renderHtmlReport(report);
    expect(html).toContain("client 2");
  });
});
