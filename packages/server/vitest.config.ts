import { defineConfig } from "vitest/config";

// These tests start real servers and processes; on a loaded 2-core CI machine a step can take seconds.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    setupFiles: ["src/testing/setup.ts"],
  },
});
