export { AssertionError, assert } from "./assert.js";
export { BenchContext } from "./bench-context.js";
export { type ClosedLoop, errorMessage, runClosedLoop } from "./closed-loop.js";
export {
  DEFAULT_LEASE_KEEPALIVE_OPTIONS,
  type LeaseKeepaliveOptions,
  runLeaseKeepalive,
} from "./commands/lease-keepalive.js";
export { DEFAULT_PUT_OPTIONS, type PutOptions, runPut } from "./commands/put.js";
export {
  type Consistency,
  DEFAULT_RANGE_OPTIONS,
  parseConsistency,
  type RangeOptions,
  runRange,
} from "./commands/range.js";
export {
  DEFAULT_STM_OPTIONS,
  type Isolation,
  parseIsolation,
  runStm,
  type StmOptions,
} from "./commands/stm.js";
export { DEFAULT_TXN_MIXED_OPTIONS, runTxnMixed, type TxnMixedOptions } from "./commands/txn-mixed.js";
export { DEFAULT_TXN_PUT_OPTIONS, runTxnPut, type TxnPutOptions } from "./commands/txn-put.js";
export { DEFAULT_WATCH_OPTIONS, runWatch, type WatchOptions } from "./commands/watch.js";
export {
  DEFAULT_WATCH_LATENCY_OPTIONS,
  runWatchLatency,
  type WatchLatencyOptions,
} from "./commands/watch-latency.js";
export { type Connection, Connections, type TransportKind } from "./connections.js";
export { CpuMeter, type CpuUsage } from "./cpu-meter.js";
export { endpointUrl, parseEndpoints } from "./endpoints.js";
export { NoLeaderError, UsageError } from "./errors.js";
export { formatClientCpu, formatResult } from "./format.js";
export { leanUnaryTransport } from "./grpc-unary.js";
export { encodeKey, keyNumber, randomValue } from "./keys.js";
export { findLeader } from "./leader.js";
export type { BenchResult, GlobalOptions, Section } from "./options.js";
export { RateLimiter } from "./rate-limiter.js";
export {
  type FormatOptions,
  formatReport,
  HISTOGRAM_BUCKETS,
  type HistogramBucket,
  PERCENTILES,
  type Percentile,
  Report,
  type ReportStats,
} from "./report.js";
