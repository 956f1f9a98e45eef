import { defineConfig } from "vitest/config";

// Unit tests (the playground simulation, key tree) run in Node; test/dashboard.e2e.test.ts drives
// Chromium against a real etcd-ts member and needs the longer timeouts.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
