import { defineConfig } from "vitest/config";

// The integration suites start real servers (etcd-ts and etcd 3.4) and child processes; on a loaded 2-core
// machine a single step can take seconds.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
