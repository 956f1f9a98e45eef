/**
 * @etcd-ts/server: one etcd-ts member — the raft driver, the apply pipeline over one backend, and the
 * etcd v3 API (gRPC, gRPC-Web, Connect and the JSON gateway) on its client port.
 */
export type { ServerConfig } from "./config.js";
export { defaultConfig, limits, validateConfig } from "./config.js";
export { EtcdError, errorCode, toConnectError } from "./errors.js";
export { EtcdServer, serverVersion } from "./etcd-server.js";
export type { MemberInfo } from "./membership.js";
export { clusterIdOf, memberIdOf, parseInitialCluster } from "./membership.js";
export type { BoltMeta, BoltSource } from "./snapshot/bolt-reader.js";
export {
  BoltBucketView,
  BoltDb,
  bufferSource,
  checkSnapshotFileHash,
  checkSnapshotHash,
  fileSource,
  SnapshotFileError,
} from "./snapshot/bolt-reader.js";
export type { RestoreOptions, RestoreProgress, RestoreResult } from "./snapshot/restore.js";
export { restoreSnapshot } from "./snapshot/restore.js";
