import { describe, expect, it } from "vitest";
import { runSeed } from "./simulation.js";

/** Seeds per node count; CI default 500, more with SIM_SEEDS=N. */
const SEEDS = Number(process.env.SIM_SEEDS ?? 500);
const START = Number(process.env.SIM_START ?? 1);

describe("seeded simulation", () => {
  // 1 is a single voter with two learners (the cluster `member add --learner` grows from).
  for (const nodes of [1, 3, 5]) {
    it(`keeps every safety property and recovers after healing: ${SEEDS} seeds x ${nodes} nodes`, () => {
      let committed = 0;
      for (let seed = START; seed < START + SEEDS; seed++) {
        const r = runSeed({ seed, nodes });
        // The message carries the seed and the command that replays it.
        expect(r.error, r.error).toBeUndefined();
        committed += r.committed;
      }
      // The runs did real work: on average well over one committed entry per seed.
      expect(committed).toBeGreaterThan(SEEDS * 5);
    }, 120_000);
  }

  // The same seeds with the driver merging its sends (coalesceMessages), as etcd-ts's server does.
  for (const nodes of [3, 5]) {
    it(`stays safe and live when the driver coalesces its messages: ${SEEDS} seeds x ${nodes} nodes`, () => {
      let committed = 0;
      for (let seed = START; seed < START + SEEDS; seed++) {
        const r = runSeed({ seed, nodes, coalesce: true });
        expect(r.error, r.error).toBeUndefined();
        committed += r.committed;
      }
      expect(committed).toBeGreaterThan(SEEDS * 5);
    }, 120_000);
  }
});
