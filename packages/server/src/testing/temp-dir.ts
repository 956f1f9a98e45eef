import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** createdDirs are the temp dirs this test file made; setup.ts removes them after the file's tests. */
const createdDirs: string[] = [];

/** tempDir makes a fresh directory under the OS temp folder, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `etcd-ts-${prefix}-`));
  createdDirs.push(dir);
  return dir;
}

/** removeTempDirs removes every dir tempDir made (ETCD_TS_KEEP_TEST_DIRS=1 keeps and prints them). */
export function removeTempDirs(): void {
  const keep = process.env.ETCD_TS_KEEP_TEST_DIRS === "1";
  for (const dir of createdDirs.splice(0)) {
    if (keep) process.stderr.write(`kept test dir ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}
