import { create } from "@bufbuild/protobuf";
import {
  type RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeResponse,
  RangeResponseSchema,
} from "@etcd-ts/proto/etcdserverpb";
import { type KeyValue, KeyValueSchema } from "@etcd-ts/proto/mvccpb";
import { ErrInvalidSortOption } from "./errors.js";
import type { IndexedKey } from "./tree-index.js";

/** KeyValueFetcher reads the stored KeyValues of resolved keys, in the same order. */
export type KeyValueFetcher = (keys: readonly IndexedKey[]) => Promise<KeyValue[]>;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** checkRangeSort rejects sort values outside etcd's enums. */
export function checkRangeSort(request: RangeRequest): void {
  if (!(request.sortOrder in RangeRequest_SortOrder) || !(request.sortTarget in RangeRequest_SortTarget)) {
    throw new ErrInvalidSortOption();
  }
}

/**
 * executeRange applies every RangeRequest option to the keys a range resolved to (in key order, as of the
 * asked revision): count is the number of keys in range ignoring limit and filters; the mod/create filters
 * drop keys before sorting; sort order NONE with a target other than KEY means ASCEND; `more` tells that the
 * limit cut the (filtered, sorted) result. It calls `fetch` exactly once and synchronously (before its first
 * await), which lets the store read from an implicit snapshot taken in the same tick as its index lookup.
 */
export async function executeRange(
  request: RangeRequest,
  keys: readonly IndexedKey[],
  fetch: KeyValueFetcher,
  revision: bigint,
): Promise<RangeResponse> {
  checkRangeSort(request);
  const response = create(RangeResponseSchema, {
    header: { revision },
    count: BigInt(keys.length),
  });
  if (request.countOnly) return response;

  let order = request.sortOrder;
  const target = request.sortTarget;
  if (order === RangeRequest_SortOrder.NONE && target !== RangeRequest_SortTarget.KEY) {
    order = RangeRequest_SortOrder.ASCEND;
  }
  if (order === RangeRequest_SortOrder.ASCEND && target === RangeRequest_SortTarget.KEY) {
    order = RangeRequest_SortOrder.NONE;
  }
  const minMod = request.minModRevision;
  const maxMod = request.maxModRevision;
  const minCreate = request.minCreateRevision;
  const maxCreate = request.maxCreateRevision;
  const filtered =
    minMod === 0n && maxMod === 0n && minCreate === 0n && maxCreate === 0n
      ? keys
      : keys.filter((k) => {
          const mod = BigInt(k.modified.main);
          const created = BigInt(k.created);
          if (maxMod !== 0n && mod > maxMod) return false;
          if (minMod !== 0n && mod < minMod) return false;
          if (maxCreate !== 0n && created > maxCreate) return false;
          if (minCreate !== 0n && created < minCreate) return false;
          return true;
        });

  const limit = request.limit > 0n ? Number(request.limit) : 0;
  let kvs: KeyValue[];
  if (order === RangeRequest_SortOrder.NONE) {
    const selected = limit > 0 ? filtered.slice(0, limit) : filtered;
    kvs = await fetch(selected);
  } else if (target === RangeRequest_SortTarget.VALUE) {
    kvs = await fetch(filtered);
    const sign = order === RangeRequest_SortOrder.DESCEND ? -1 : 1;
    kvs.sort((a, b) => sign * compareBytes(a.value, b.value));
    if (limit > 0) kvs = kvs.slice(0, limit);
  } else {
    const sign = order === RangeRequest_SortOrder.DESCEND ? -1 : 1;
    const sorted = [...filtered];
    if (target === RangeRequest_SortTarget.KEY) {
      sorted.reverse();
    } else {
      const field = (k: IndexedKey): number =>
        target === RangeRequest_SortTarget.VERSION
          ? k.version
          : target === RangeRequest_SortTarget.CREATE
            ? k.created
            : k.modified.main;
      sorted.sort((a, b) => sign * (field(a) - field(b)));
    }
    kvs = await fetch(limit > 0 ? sorted.slice(0, limit) : sorted);
  }
  response.more = limit > 0 && filtered.length > limit;
  if (request.keysOnly) {
    kvs = kvs.map((kv) => create(KeyValueSchema, { ...kv, value: new Uint8Array(0) }));
  }
  response.kvs = kvs;
  return response;
}
