import { defineConfig } from "vitest/config";

// Robustness runs start real clusters: generous per-test timeouts; the suite as a whole is kept short.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // Runs start real clusters: one file at a time keeps them from fighting over 2 cores.
    fileParallelism: false,
    // ...and at most two runs of a describe.concurrent block at once (see robustness.test.ts).
    maxConcurrency: 2,
  },
});
