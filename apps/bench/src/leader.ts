import { createClient } from "@connectrpc/connect";
import { Maintenance } from "@etcd-ts/proto/etcdserverpb";
import { Connections } from "./connections.js";
import { NoLeaderError } from "./errors.js";

/**
 * findLeader asks each endpoint for Maintenance.Status and returns the one whose member id is the leader
 * it reports (what `--target-leader` connects to).
 */
export async function findLeader(baseUrls: readonly string[]): Promise<string> {
  for (const baseUrl of baseUrls) {
    const connections = Connections.open([baseUrl], 1);
    try {
      const maintenance = createClient(Maintenance, connections.forClient(0).transport);
      const status = await maintenance.status({}, { timeoutMs: 5000 });
      if (status.leader !== 0n && status.header?.memberId === status.leader) return baseUrl;
    } catch {
      // an unreachable endpoint is not the leader
    } finally {
      connections.close();
    }
  }
  throw new NoLeaderError(baseUrls);
}
