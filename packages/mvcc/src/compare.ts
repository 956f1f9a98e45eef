import { type Compare, Compare_CompareResult, Compare_CompareTarget } from "@etcd-ts/proto/etcdserverpb";

/** ComparedKey is what a compare looks at; a missing key is all zeros with an empty value. */
export interface ComparedKey {
  readonly createRevision: bigint;
  readonly modRevision: bigint;
  readonly version: bigint;
  readonly lease: bigint;
  readonly value: Uint8Array;
}

/** MISSING_KEY is what a compare sees for a key that does not exist (a VALUE compare on it is always false). */
export const MISSING_KEY: ComparedKey = {
  createRevision: 0n,
  modRevision: 0n,
  version: 0n,
  lease: 0n,
  value: new Uint8Array(0),
};

function compareNumbers(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * compareHolds evaluates one compare against one key. A target_union of another kind than the target reads as
 * 0 (or the empty value), as in etcd.
 */
export function compareHolds(compare: Compare, key: ComparedKey): boolean {
  const union = compare.targetUnion;
  let order: number;
  switch (compare.target) {
    case Compare_CompareTarget.VERSION:
      order = compareNumbers(key.version, union.case === "version" ? union.value : 0n);
      break;
    case Compare_CompareTarget.CREATE:
      order = compareNumbers(key.createRevision, union.case === "createRevision" ? union.value : 0n);
      break;
    case Compare_CompareTarget.MOD:
      order = compareNumbers(key.modRevision, union.case === "modRevision" ? union.value : 0n);
      break;
    case Compare_CompareTarget.VALUE:
      order = Buffer.compare(key.value, union.case === "value" ? union.value : new Uint8Array(0));
      break;
    case Compare_CompareTarget.LEASE:
      order = compareNumbers(key.lease, union.case === "lease" ? union.value : 0n);
      break;
    default:
      return false;
  }
  switch (compare.result) {
    case Compare_CompareResult.EQUAL:
      return order === 0;
    case Compare_CompareResult.NOT_EQUAL:
      return order !== 0;
    case Compare_CompareResult.GREATER:
      return order > 0;
    case Compare_CompareResult.LESS:
      return order < 0;
    default:
      return false;
  }
}
