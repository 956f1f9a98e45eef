/** compactAndDefrag is check perf's --auto-compact / --auto-defrag clean-up. */
import { KV, Maintenance } from "@etcd-ts/proto/etcdserverpb";
import { line } from "../output.js";
import { failWith, type Session } from "../session.js";

/** compactAndDefrag compacts at `revision` and/or defragments every endpoint, printing what etcdctl prints. */
export async function compactAndDefrag(
  s: Session,
  compact: boolean,
  defrag: boolean,
  revision: bigint,
): Promise<void> {
  if (compact) {
    await s
      .unary((ep, call) => ep.client(KV).compact({ revision, physical: true }, call))
      .catch((e: unknown) => failWith(e));
    line(s, `Compacted with revision ${revision}`);
  }
  if (defrag) {
    for (const ep of s.globals.endpoints) {
      await s
        .unary((e, call) => e.client(Maintenance).defragment({}, call), { endpoint: ep })
        .catch((e: unknown) => failWith(e));
      line(s, `Defragmented ${JSON.stringify(ep)}`);
    }
  }
}
