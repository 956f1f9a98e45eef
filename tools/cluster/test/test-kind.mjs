// Which server the cluster tests run: real etcd 3.4 by default (the reference), etcd-ts with
// CLUSTER_TEST_KIND=etcd-ts (the same assertions, once etcd-ts clusters are expected to pass them).

/** @type {"etcd" | "etcd-ts"} */
export const testKind = process.env.CLUSTER_TEST_KIND === "etcd-ts" ? "etcd-ts" : "etcd";
