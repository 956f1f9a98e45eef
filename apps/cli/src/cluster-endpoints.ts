/**
 * The endpoints a per-member command (endpoint health/status/hashkv, defrag) works on: --endpoints, or with
 * --cluster the client URLs of every member.
 */
import { Cluster } from "@etcd-ts/proto/etcdserverpb";
import { ExitCode } from "./errors.js";
import { failWith, type Session } from "./session.js";

/** commandEndpoints lists the endpoints to visit. */
export async function commandEndpoints(session: Session, cluster: boolean): Promise<string[]> {
  if (!cluster) return session.globals.endpoints;
  const r = await session
    .unary((ep, call) => ep.client(Cluster).memberList({}, call), { safe: true })
    .catch((err: unknown) => failWith(err, ExitCode.error));
  const out: string[] = [];
  for (const m of r.members) for (const u of m.clientURLs) if (!out.includes(u)) out.push(u);
  return out;
}
