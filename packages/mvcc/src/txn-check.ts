import type { PutRequest, RequestOp, TxnRequest } from "@etcd-ts/proto/etcdserverpb";
import { ErrDuplicateKey, ErrEmptyKey, ErrLeaseProvided, ErrTooManyOps, ErrValueProvided } from "./errors.js";
import { type KeyRange, keyToString, rangeContains, toKeyRange } from "./key-range.js";

/** DEFAULT_MAX_TXN_OPS is etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;

/** checkPutRequest rejects a put whose ignore flags contradict its value or lease, or that has no key. */
export function checkPutRequest(request: PutRequest): void {
  if (request.key.length === 0) throw new ErrEmptyKey();
  if (request.ignoreValue && request.value.length !== 0) throw new ErrValueProvided();
  if (request.ignoreLease && request.lease !== 0n) throw new ErrLeaseProvided();
}

/**
 * checkTxnRequest validates a txn before it runs: the op count limit (per compare list and branch, also for
 * nested txns), every put's flags, and that no branch writes a key twice or puts a key it also deletes.
 */
export function checkTxnRequest(request: TxnRequest, maxTxnOps: number = DEFAULT_MAX_TXN_OPS): void {
  checkOpCounts(request, maxTxnOps);
  collectWrites(request.success);
  collectWrites(request.failure);
}

function checkOpCounts(request: TxnRequest, maxTxnOps: number): void {
  if (
    request.compare.length > maxTxnOps ||
    request.success.length > maxTxnOps ||
    request.failure.length > maxTxnOps
  ) {
    throw new ErrTooManyOps();
  }
  for (const compare of request.compare) {
    if (compare.key.length === 0) throw new ErrEmptyKey();
  }
  for (const op of [...request.success, ...request.failure]) {
    switch (op.request.case) {
      case "requestPut":
        checkPutRequest(op.request.value);
        break;
      case "requestRange":
      case "requestDeleteRange":
        if (op.request.value.key.length === 0) throw new ErrEmptyKey();
        break;
      case "requestTxn":
        checkOpCounts(op.request.value, maxTxnOps);
        break;
      case undefined:
        break;
    }
  }
}

interface Writes {
  readonly puts: Set<string>;
  readonly deletes: KeyRange[];
}

function deletesCover(deletes: readonly KeyRange[], key: string): boolean {
  return deletes.some((range) => rangeContains(range, key));
}

/**
 * collectWrites gathers the keys a list of ops puts and the ranges it deletes, throwing ErrDuplicateKey on a
 * conflict. The two branches of a nested txn exclude each other, so they may put the same key.
 */
function collectWrites(ops: readonly RequestOp[]): Writes {
  const deletes: KeyRange[] = [];
  for (const op of ops) {
    if (op.request.case === "requestDeleteRange") {
      deletes.push(toKeyRange(op.request.value.key, op.request.value.rangeEnd));
    }
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.request.case !== "requestTxn") continue;
    const success = collectWrites(op.request.value.success);
    const failure = collectWrites(op.request.value.failure);
    for (const key of success.puts) {
      if (puts.has(key) || deletesCover(deletes, key)) throw new ErrDuplicateKey();
      puts.add(key);
    }
    for (const key of failure.puts) {
      if ((puts.has(key) && !success.puts.has(key)) || deletesCover(deletes, key))
        throw new ErrDuplicateKey();
      puts.add(key);
    }
    deletes.push(...success.deletes, ...failure.deletes);
  }
  for (const op of ops) {
    if (op.request.case !== "requestPut") continue;
    const key = keyToString(op.request.value.key);
    if (puts.has(key) || deletesCover(deletes, key)) throw new ErrDuplicateKey();
    puts.add(key);
  }
  return { puts, deletes };
}
