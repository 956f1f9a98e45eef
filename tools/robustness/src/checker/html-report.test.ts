import { describe, expect, it } from "vitest";
import { checkEtcdHistory } from "./etcd-linearizability.js";
import { generateHistory, injectAnomaly } from "./history-generator.js";
import { renderHtmlReport } from "./html-report.js";

describe("renderHtmlReport", () => {
  it("draws the failing partition with a row per client and the operations left out", () => {
    const generated = generateHistory(7, { operations: 120, clients: 5, keys: 3, openRate: 0.1 });
    let broken: ReturnType<typeof injectAnomaly>;
    for (let pick = 0; broken === undefined && pick < 10; pick++)
      broken = injectAnomaly(generated, "phantom-value", pick);
    expect(broken).toBeDefined();
    const report = checkEtcdHistory(broken ?? []);
    expect(report.verdict).toBe("illegal");
    const html = renderHtmlReport(report, { notes: ["seed 7"] });
    expect(html).toContain('<b class="verdict-illegal">illegal</b>');
    expect(html).toContain("seed 7");
    expect(html).toContain("&quot;phantom&quot;");
    expect(html).toMatch(/<text x="4" y="\d+">client \d<\/text>/);
    const failing = report.partitions.filter((p) => p.result.verdict === "illegal").length;
    expect(html.split("<svg ").length - 1).toBe(failing);
  });

  it("says so when nothing failed", () => {
    const generated = generateHistory(8, { operations: 50, clients: 3, keys: 2, openRate: 0 });
    const html = renderHtmlReport(checkEtcdHistory(generated.operations));
    expect(html).toContain("No failing partition.");
  });
});
