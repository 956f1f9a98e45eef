/** tempDir makes a fresh directory `etcd-ts-<prefix>-*` under the OS temp folder, removed by removeTempDirs. */
export function tempDir(prefix: string): string;

/**
 * removeTempDirs removes every dir tempDir made (call it in an afterAll, or from a vitest setup file).
 * ETCD_TS_KEEP_TEST_DIRS=1 keeps them for a post-mortem and prints their paths.
 */
export function removeTempDirs(): void;
