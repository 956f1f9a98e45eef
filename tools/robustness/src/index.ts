export { AssertionError, assert } from "./assert.js";
export { Bitset } from "./checker/bitset.js";
export type {
  CheckOptions,
  EtcdOperation,
  LinearizabilityReport,
  PartitionReport,
} from "./checker/etcd-linearizability.js";
export {
  checkEtcdHistory,
  checkRevisionOrder,
  partitionHistory,
  prepareHistory,
} from "./checker/etcd-linearizability.js";
export type { AnomalyKind, GeneratedHistory, GeneratorOptions } from "./checker/history-generator.js";
export { anomalyKinds, generateHistory, injectAnomaly } from "./checker/history-generator.js";
export type { ReportOptions } from "./checker/html-report.js";
export { renderHtmlReport } from "./checker/html-report.js";
export type { CheckVerdict, Model, Operation } from "./checker/operation.js";
export type { SearchLimits, SearchResult } from "./checker/wgl.js";
export { searchLinearization } from "./checker/wgl.js";
export type { EtcdModelState } from "./model/etcd-model.js";
export { describeEtcdOperation, etcdModel } from "./model/etcd-model.js";
export type {
  Compare,
  EtcdRequest,
  EtcdResponse,
  KeyValue,
  TxnOp,
  TxnResult,
} from "./model/etcd-types.js";
export { keyInRange } from "./model/etcd-types.js";
export { ReferenceEtcd } from "./model/reference-etcd.js";
export type { LoadOptions } from "./options.js";
export { Random } from "./random.js";
export type { SoakFault, SoakOptions, SoakSummary, SoakWindow } from "./soak/soak.js";
export { defaultSoakOptions, runSoak } from "./soak/soak.js";
export type { WindowCheckInput, WindowCheckResult } from "./soak/window-check.js";
export { checkWindow } from "./soak/window-check.js";
