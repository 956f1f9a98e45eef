/**
 * @etcd-ts/dashboard: the web dashboard that etcd-ts serves at /ui (the page's entry is main.ts).
 *
 * This is the dashboard's public face for code: the headless Raft playground engine, which runs the real
 * @etcd-ts/raft on simulated nodes and is usable without a DOM (tests, scripts), and the views that
 * main.ts mounts.
 */

export { AuthSession } from "./api/auth-session.js";
export type { EtcdApi } from "./api/etcd-api.js";
export { createEtcdApi } from "./api/etcd-api.js";
export type { WatchTarget } from "./api/watch-stream.js";
export { openWatchStream } from "./api/watch-stream.js";
export type { ClusterSnapshot, MemberRow, StatusSource } from "./cluster/cluster-snapshot.js";
export { fetchClusterSnapshot } from "./cluster/cluster-snapshot.js";
export { ClusterView } from "./cluster/cluster-view.js";
export { KeyBrowser } from "./keys/key-browser.js";
export type { KeyTreeEntry } from "./keys/key-tree.js";
export { keyTree, parentPrefix } from "./keys/key-tree.js";
export { PlaygroundView } from "./playground/playground-view.js";
export type { Role } from "./playground/role.js";
export { SeededRandom } from "./playground/seeded-random.js";
export type { ScriptedAction, SimAction } from "./playground/sim-action.js";
export { describeAction } from "./playground/sim-action.js";
export type { SimEvent, SimStats, SimulationOptions } from "./playground/simulation.js";
export { Simulation, TICK_MS } from "./playground/simulation.js";
