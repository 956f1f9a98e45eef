// Running Debian's etcdctl (API v3) against a local cluster, and reading what `etcdctl member add` prints.

import { execFile } from "node:child_process";

/** A command that has not finished by then is killed; etcdctl's own command timeout is 5 s. */
const ETCDCTL_TIMEOUT_MS = 30_000;

/**
 * @typedef {object} EtcdctlResult
 * @property {number} code     exit code (-1 when it could not run or was killed)
 * @property {string} stdout
 * @property {string} stderr
 */

/**
 * etcdctl runs `etcdctl <args>` with ETCDCTL_API=3 against `endpoints` (comma-separated, or given in args).
 * ETCDCTL_* variables of the caller are not passed on.
 * @param {string[]} args
 * @param {{endpoints?: string, bin?: string, input?: string}} [options]
 * @returns {Promise<EtcdctlResult>}
 */
export function etcdctl(args, options = {}) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("ETCDCTL_")) env[k] = v;
  }
  env.ETCDCTL_API = "3";
  if (options.endpoints !== undefined) env.ETCDCTL_ENDPOINTS = options.endpoints;
  return new Promise((resolve) => {
    const child = execFile(
      options.bin ?? "etcdctl",
      args,
      { env, timeout: ETCDCTL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

/**
 * MemberAddOutput is what `etcdctl member add` tells about the new member: its id and the environment to start
 * it with.
 * @typedef {object} MemberAddOutput
 * @property {string} memberId        hex, as printed
 * @property {string} clusterId       hex, as printed
 * @property {string} name            ETCD_NAME
 * @property {string} initialCluster  ETCD_INITIAL_CLUSTER
 * @property {string[]} peerUrls      ETCD_INITIAL_ADVERTISE_PEER_URLS
 * @property {string} state           ETCD_INITIAL_CLUSTER_STATE ("existing")
 */

/**
 * parseMemberAddOutput reads the stdout of `etcdctl member add NAME --peer-urls=...` (simple output), e.g.
 *
 *     Member  3c1a2b... added to cluster 9f8e...
 *
 *     ETCD_NAME="infra4"
 *     ETCD_INITIAL_CLUSTER="infra1=http://127.0.0.1:2380,...,infra4=http://127.0.0.1:42380"
 *     ETCD_INITIAL_ADVERTISE_PEER_URLS="http://127.0.0.1:42380"
 *     ETCD_INITIAL_CLUSTER_STATE="existing"
 *
 * Throws when a part is missing (the command failed, or another output format was asked for).
 * @param {string} text
 * @returns {MemberAddOutput}
 */
export function parseMemberAddOutput(text) {
  // etcdctl prints the ids with %16x: space-padded to 16 characters.
  const head = /Member +([0-9a-f]+) added to cluster +([0-9a-f]+)/.exec(text);
  /** @param {string} key */
  const env = (key) => {
    const m = new RegExp(`^${key}="([^"]*)"`, "m").exec(text);
    if (m?.[1] === undefined) throw new Error(`member add output has no ${key}:\n${text}`);
    return m[1];
  };
  if (head?.[1] === undefined || head[2] === undefined)
    throw new Error(`not the output of a successful member add:\n${text}`);
  return {
    memberId: head[1],
    clusterId: head[2],
    name: env("ETCD_NAME"),
    initialCluster: env("ETCD_INITIAL_CLUSTER"),
    peerUrls: env("ETCD_INITIAL_ADVERTISE_PEER_URLS").split(","),
    state: env("ETCD_INITIAL_CLUSTER_STATE"),
  };
}
