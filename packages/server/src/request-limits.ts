import type { DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest } from "@etcd-ts/proto/etcdserverpb";
import { errors } from "./errors.js";

/**
 * checkKey rejects requests etcd rejects at its API edge (v3rpc/key.go): an empty key.
 */
export function checkRangeRequest(req: RangeRequest): void {
  if (req.key.length === 0) throw errors.keyNotProvided();
}

export function checkPutRequest(req: PutRequest): void {
  if (req.key.length === 0) throw errors.keyNotProvided();
}

export function checkDeleteRangeRequest(req: DeleteRangeRequest): void {
  if (req.key.length === 0) throw errors.keyNotProvided();
}

/** checkTxnRequest applies the checks above to every op, and the op-count limit, recursively. */
export function checkTxnRequest(req: TxnRequest, maxTxnOps: number): void {
  if (req.compare.length > maxTxnOps || req.success.length > maxTxnOps || req.failure.length > maxTxnOps) {
    throw errors.tooManyOps();
  }
  for (const compare of req.compare) if (compare.key.length === 0) throw errors.keyNotProvided();
  for (const op of [...req.success, ...req.failure]) {
    const r = op.request;
    switch (r.case) {
      case "requestRange":
        checkRangeRequest(r.value);
        break;
      case "requestPut":
        checkPutRequest(r.value);
        break;
      case "requestDeleteRange":
        checkDeleteRangeRequest(r.value);
        break;
      case "requestTxn":
        checkTxnRequest(r.value, maxTxnOps);
        break;
      case undefined:
        break;
    }
  }
}

/** isReadOnlyTxn is true when no branch of the txn writes (such a txn is served like a range). */
export function isReadOnlyTxn(req: TxnRequest): boolean {
  for (const op of [...req.success, ...req.failure]) {
    const r = op.request;
    if (r.case === "requestPut" || r.case === "requestDeleteRange") return false;
    if (r.case === "requestTxn" && !isReadOnlyTxn(r.value)) return false;
  }
  return true;
}
