// The temp dirs of this package's tests: @etcd-ts/test-support's, removed after each file by setup.ts.
export { removeTempDirs, tempDir } from "@etcd-ts/test-support";
