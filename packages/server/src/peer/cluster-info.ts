import type { Logger } from "pino";
import type { MemberInfo } from "../membership.js";
import { type PeerTlsOptions, peerClient } from "./transport.js";

/** How long a joining member keeps asking its peers for the cluster before it gives up. */
const joinTimeoutMs = 30_000;

/**
 * fetchClusterInfo asks the given peer URLs, in turn and with retries, for the cluster's id and members:
 * what a member started with `--initial-cluster-state existing` needs before it can create its WAL.
 */
export async function fetchClusterInfo(
  urls: readonly string[],
  tls: PeerTlsOptions | undefined,
  logger: Logger,
): Promise<{ clusterId: bigint; members: MemberInfo[] }> {
  if (urls.length === 0) {
    throw new Error("--initial-cluster-state existing needs the running members in --initial-cluster");
  }
  const deadline = Date.now() + joinTimeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    for (const url of urls) {
      try {
        const info = await peerClient(url, tls).clusterInfo(
          { header: { clusterId: 0n, fromMemberId: 0n, toMemberId: 0n } },
          { timeoutMs: 2000 },
        );
        return {
          clusterId: info.clusterId,
          members: info.members.map((m) => ({
            id: m.id,
            name: m.name,
            peerUrls: [...m.peerUrls],
            clientUrls: [...m.clientUrls],
            isLearner: m.isLearner,
          })),
        };
      } catch (err) {
        lastError = err;
        logger.debug({ url, err: String(err) }, "could not get the cluster from a peer; retrying");
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`could not reach any member of the cluster at ${urls.join(",")}: ${String(lastError)}`);
}
