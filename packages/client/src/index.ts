/**
 * @etcd-ts/client: a TypeScript client for etcd v3 and etcd-ts.
 *
 * ```ts
 * const client = new EtcdClient({ endpoints: ["127.0.0.1:2379"] });
 * await client.put("greeting", "hello");
 * console.log(await client.getString("greeting"));
 * client.close();
 * ```
 */
export type { Permission, PermissionType } from "./auth.js";
export { AuthClient } from "./auth.js";
export type { BackoffOptions } from "./backoff.js";
export type { Bytes } from "./bytes.js";
export { bytesToString, prefixEnd, toBytes } from "./bytes.js";
export type { EtcdClientOptions, GetOptions } from "./client.js";
export { EtcdClient } from "./client.js";
export type { Member, MemberListResult } from "./cluster.js";
export { ClusterClient } from "./cluster.js";
export { Barrier, DoubleBarrier } from "./concurrency/barrier.js";
export type { LeaderKey } from "./concurrency/election.js";
export { Election } from "./concurrency/election.js";
export { Mutex } from "./concurrency/mutex.js";
export { PriorityQueue, Queue } from "./concurrency/queue.js";
export { RWMutex } from "./concurrency/rw-mutex.js";
export type { ServiceSetEvents } from "./concurrency/service-registry.js";
export { ServiceRegistry, ServiceWatch } from "./concurrency/service-registry.js";
export type { SessionOptions } from "./concurrency/session.js";
export { Session } from "./concurrency/session.js";
export type { Isolation, STM, STMOptions } from "./concurrency/stm.js";
export { runSTM, STMConflictError } from "./concurrency/stm.js";
export type { CallSettings, Credentials, RetryOptions } from "./connection.js";
export type {
  EndpointTransport,
  Protocol,
  TlsOptions,
  TransportFactory,
  TransportSettings,
} from "./endpoint-transport.js";
export {
  AuthFailedError,
  AuthNotEnabledError,
  AuthOldRevisionError,
  BadLeaderTransfereeError,
  CanceledError,
  ClientClosedError,
  CompactedError,
  CorruptClusterError,
  DeadlineExceededError,
  DuplicateKeyError,
  EmptyKeyError,
  EndpointUnavailableError,
  EtcdError,
  FutureRevisionError,
  InvalidAuthManagementError,
  InvalidAuthTokenError,
  InvalidSortOptionError,
  KeyNotFoundError,
  LeaderChangedError,
  LearnerNotReadyError,
  LeaseExistsError,
  LeaseLostError,
  LeaseNotFoundError,
  LeaseProvidedError,
  LeaseTTLTooLargeError,
  LockedError,
  MemberBadURLsError,
  MemberExistsError,
  MemberNotFoundError,
  MemberNotLearnerError,
  NoElectionLeaderError,
  NoLeaderError,
  NoSpaceError,
  NotCapableError,
  NotEnoughStartedMembersError,
  NotLeaderError,
  NotLeaderOfElectionError,
  NotSupportedForLearnerError,
  PeerURLExistsError,
  PermissionDeniedError,
  PermissionNotGivenError,
  PermissionNotGrantedError,
  RequestTimeoutError,
  RequestTooLargeError,
  RoleEmptyError,
  RoleExistsError,
  RoleNotFoundError,
  RoleNotGrantedError,
  RootRoleNotExistError,
  RootUserNotExistError,
  ServerStoppedError,
  SessionExpiredError,
  TooManyLearnersError,
  TooManyOpsError,
  TooManyRequestsError,
  toEtcdError,
  UnavailableError,
  UnhealthyClusterError,
  UserEmptyError,
  UserExistsError,
  UserNotFoundError,
  ValueProvidedError,
  WatchCanceledError,
  WatchCompactedError,
} from "./errors.js";
export type { ResponseHeader } from "./key-value.js";
export { KeyValue } from "./key-value.js";
export type {
  DeleteOptions,
  DeleteResult,
  KeyRange,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  RevisionLike,
  SortOrder,
  SortTarget,
} from "./kv.js";
export type { Clock, KeepAliveEvents, KeepAliveResponse, LeaseGrant, LeaseTimeToLive } from "./lease.js";
export { LeaseClient, LeaseKeepAlive } from "./lease.js";
export type { Alarm, AlarmName, HashKV, Status } from "./maintenance.js";
export { MaintenanceClient } from "./maintenance.js";
export type { Compare, CompareOp, Operation, OpResult, TxnResult } from "./txn.js";
export { Cmp, Op, Txn } from "./txn.js";
export type { WatchBatch, WatchEvent, WatcherEvents, WatchOptions } from "./watch.js";
export { Watcher } from "./watch.js";
