import { describe, expect, it } from "vitest";
import { formatReport, HISTOGRAM_BUCKETS, PERCENTILES, Report } from "./report.js";

/** A seeded PRNG (mulberry32) so the randomized checks replay exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("Report", () => {
  it("computes etcd's summary figures exactly", () => {
    const clock = fakeClock();
    const report = new Report("put", clock.now);
    report.start();
    for (const ms of [1, 2, 3, 4, 10]) report.record(ms);
    clock.advance(2000);
    const stats = report.finish();
    expect(stats.count).toBe(5);
    expect(stats.totalSeconds).toBe(2);
    expect(stats.requestsPerSecond).toBe(2.5);
    expect(stats.fastestSeconds).toBeCloseTo(0.001, 12);
    expect(stats.slowestSeconds).toBeCloseTo(0.01, 12);
    expect(stats.averageSeconds).toBeCloseTo(0.004, 12);
    // population stddev of 1,2,3,4,10 ms = sqrt(10) ms
    expect(stats.stddevSeconds).toBeCloseTo(Math.sqrt(10) / 1000, 9);
    expect(stats.percentiles.map((p) => p.percent)).toEqual(PERCENTILES);
    expect(stats.histogram).toHaveLength(HISTOGRAM_BUCKETS + 1);
    expect(stats.histogram[0]).toEqual({ upperSeconds: 0.001, count: 1 });
    expect(stats.histogram.at(-1)).toEqual({ upperSeconds: 0.01, count: 1 });
    expect(stats.histogram.reduce((a, b) => a + b.count, 0)).toBe(5);
  });

  it("counts errors apart from latencies", () => {
    const clock = fakeClock();
    const report = new Report("put", clock.now);
    report.record(5);
    report.recordError("rpc error: code = Unavailable desc = unavailable");
    report.recordError("rpc error: code = Unavailable desc = unavailable");
    clock.advance(1000);
    const stats = report.finish();
    expect(stats.count).toBe(1);
    expect(stats.errors).toEqual({ "rpc error: code = Unavailable desc = unavailable": 2 });
  });

  it("percentiles stay within 0.1% of a sorted reference (randomized, seeded)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = prng(seed);
      const report = new Report("r", fakeClock().now);
      const values: number[] = [];
      const n = 1 + Math.floor(random() * 5000);
      for (let i = 0; i < n; i++) {
        // 0.05 ms .. ~2 s, log-uniform
        const ms = 0.05 * 40000 ** random();
        values.push(ms);
        report.record(ms);
      }
      values.sort((a, b) => a - b);
      const stats = report.finish();
      expect(stats.count, `seed ${seed}`).toBe(n);
      expect(stats.fastestSeconds * 1000).toBeCloseTo(values[0]!, 9);
      expect(stats.slowestSeconds * 1000).toBeCloseTo(values.at(-1)!, 9);
      for (const p of stats.percentiles) {
        // nearest-rank reference
        const rank = Math.max(1, Math.ceil((p.percent / 100) * n));
        const expected = values[rank - 1]!;
        const tolerance = expected * 0.002 + 0.001; // 3 significant digits + 1 µs rounding
        expect(Math.abs(p.seconds * 1000 - expected), `seed ${seed} p${p.percent}`).toBeLessThanOrEqual(
          tolerance,
        );
      }
      const bucketed = stats.histogram.reduce((a, b) => a + b.count, 0);
      expect(bucketed, `seed ${seed}`).toBe(n);
      for (let i = 1; i < stats.histogram.length; i++) {
        expect(stats.histogram[i]!.upperSeconds).toBeGreaterThanOrEqual(stats.histogram[i - 1]!.upperSeconds);
      }
    }
  });

  it("formats like etcd's benchmark", () => {
    const clock = fakeClock();
    const report = new Report("put", clock.now);
    report.start();
    for (let i = 1; i <= 100; i++) report.record(i / 10 + 0.02);
    clock.advance(1000);
    const text = formatReport(report.finish());
    const lines = text.split("\n");
    expect(lines.slice(0, 8)).toEqual([
      "",
      "Summary:",
      "  Total:\t1.0000 secs.",
      "  Slowest:\t0.0100 secs.",
      "  Fastest:\t0.0001 secs.",
      "  Average:\t0.0051 secs.",
      "  Stddev:\t0.0029 secs.",
      "  Requests/sec:\t100.0000",
    ]);
    expect(lines[9]).toBe("Response time histogram:");
    expect(lines[10]).toMatch(/^ {2}0\.0001 \[1\]\t\|∎*$/);
    expect(text).toContain("\nLatency distribution:\n  10% in 0.0010 secs.\n");
    expect(text).toContain("  99.9% in 0.0100 secs.\n");
    // the fullest bucket(s) have a 40-character bar, none longer
    expect(lines.filter((l) => /\|∎{40}$/.test(l)).length).toBeGreaterThan(0);
    expect(lines.filter((l) => /∎{41}/.test(l))).toHaveLength(0);
  });

  it("prints the error distribution", () => {
    const report = new Report("put", fakeClock().now);
    report.recordError("boom");
    expect(formatReport(report.finish())).toBe("\nError distribution:\n  [1]\tboom\n");
  });
});
