// @etcd-ts/cluster: local etcd-ts or real etcd clusters on loopback for tests and for trying things out, and a
// TCP proxy to cut members off. This file is the module's public face; cluster.mjs is the CLI.

export { etcdctl, parseMemberAddOutput } from "./etcdctl.mjs";
export { Cluster, gatewayStatus, MAX_SIZE, memberStatus, startCluster } from "./local-cluster.mjs";
export { commandOf, ETCD_TS_MAIN, Member, READY_TIMEOUT_MS, STOP_TIMEOUT_MS } from "./member-process.mjs";
export { freePort, portInUse } from "./ports.mjs";
export { sourcePid, startTcpProxy, TcpProxy } from "./tcp-proxy.mjs";
