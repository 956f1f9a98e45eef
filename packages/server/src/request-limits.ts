import type { DeleteRangeRequest, RangeRequest } from "@etcd-ts/proto/etcdserverpb";
import { errors } from "./errors.js";

// The API edge rejects what etcd rejects before proposing (v3rpc/key.go). Puts and txns are checked with
// mvcc's own checkPutRequest / checkTxnRequest (op counts, empty keys, ignore flags, duplicate keys), so a
// bad request fails fast and never reaches raft.

/** checkRangeRequest rejects a range without a key. */
export function checkRangeRequest(req: RangeRequest): void {
  if (req.key.length === 0) throw errors.keyNotProvided();
}

/** checkDeleteRangeRequest rejects a delete without a key. */
export function checkDeleteRangeRequest(req: DeleteRangeRequest): void {
  if (req.key.length === 0) throw errors.keyNotProvided();
}
