import { defineConfig } from "vitest/config";

// The end-to-end tests start a real etcd-ts member and a real etcd; on a loaded 2-core machine a step can take
// seconds.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
