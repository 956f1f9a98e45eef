import { describe, expect, it } from "vitest";
import { runFuzz } from "./api-fuzz.js";

describe("API fuzzing against a live etcd-ts cluster", () => {
  it("answers every random, corrupted and JSON request with a valid response or an etcd error", async () => {
    const result = await runFuzz({
      target: "etcd-ts",
      seed: 42,
      perMethod: Number(process.env.FUZZ_PER_METHOD ?? 4),
    });
    expect(result.violations).toEqual([]);
    expect(result.methods).toBeGreaterThanOrEqual(35);
    expect(result.validAnswers).toBeGreaterThan(0);
    expect(result.etcdErrors).toBeGreaterThan(0);
    expect(result.requests).toBe(result.validAnswers + result.etcdErrors);
  });
});
