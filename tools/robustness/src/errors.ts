/**
 * Errors of the robustness tool. The etcd error texts the tool matches on (from the server) live with the
 * client (`leaseNotFound`, `compactedText`); these are the tool's own operating errors.
 */

/** ClusterError: a cluster could not be started, healed or brought to agreement. */
export class ClusterError extends Error {
  override name = "ClusterError";
}

/** UsageError: bad command-line input. */
export class UsageError extends Error {
  override name = "UsageError";
}
