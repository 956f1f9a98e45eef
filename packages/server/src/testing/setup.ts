// Runs in every test file of this package (vitest setupFiles). Hooks registered here run after the file's
// own afterAll hooks (vitest runs after-hooks in reverse order), so servers are stopped before their dirs go.

import { removeTempDirs } from "@etcd-ts/test-support";
import { afterAll } from "vitest";

afterAll(() => {
  removeTempDirs();
});
