// Temp directories for tests: every data dir a test file makes is removed after the file, so a run does
// not leave hundreds of MB behind (a three-member cluster's dirs are about 385 MB).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** created are the dirs tempDir made in this module instance (one per test file under vitest). */
const created = [];

/**
 * @param {string} prefix
 * @returns {string}
 */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `etcd-ts-${prefix}-`));
  created.push(dir);
  return dir;
}

export function removeTempDirs() {
  const keep = process.env.ETCD_TS_KEEP_TEST_DIRS === "1";
  for (const dir of created.splice(0)) {
    if (keep) process.stderr.write(`kept test dir ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}
