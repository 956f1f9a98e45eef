/**
 * clientv3's lease responses embed the response header, so their JSON has the header's fields inline:
 * `{"cluster_id":1,"member_id":2,"revision":3,"raft_term":4,"ID":5,"TTL":60,"Error":""}`.
 */
import { type ResponseHeader, ResponseHeaderSchema } from "@etcd-ts/proto/etcdserverpb";
import { goJson } from "./go-json.js";

/** inlineHeaderJson renders the header's fields followed by `rest` (already-rendered `"k":v` pairs). */
export function inlineHeaderJson(header: ResponseHeader | undefined, rest: string[]): string {
  const h = header === undefined ? "" : goJson(ResponseHeaderSchema, header as never).slice(1, -1);
  return `{${[h, ...rest].filter((p) => p !== "").join(",")}}`;
}
