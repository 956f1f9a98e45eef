/**
 * KV requests and results: option objects in, protobuf request shapes out; protobuf responses in, plain
 * results out. The client and the Txn builder share these so a `get` inside a txn means the same as alone.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type DeleteRangeRequestSchema,
  type DeleteRangeResponse,
  type PutRequestSchema,
  type PutResponse,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeRequestSchema,
  type RangeResponse,
} from "@etcd-ts/proto/etcdserverpb";
import { ALL_KEYS_END, type Bytes, prefixEnd, toBytes } from "./bytes.js";
import { type KeyValue, type ResponseHeader, toHeader, toKeyValue } from "./key-value.js";

/** RevisionLike is a revision as bigint (the wire type) or a safe-integer number. */
export type RevisionLike = bigint | number;

/** toRevision converts a RevisionLike to bigint, rejecting unsafe numbers. */
export function toRevision(value: RevisionLike): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value)) throw new RangeError(`etcd-ts client: ${value} is not a safe integer`);
  return BigInt(value);
}

/** KeyRange selects more than one key: an explicit end, a prefix, or everything from the key on. */
export interface KeyRange {
  /** end is the exclusive end of the range [key, end). */
  end?: Bytes;
  /** prefix selects every key that starts with `key`. */
  prefix?: boolean;
  /** fromKey selects every key >= `key`. */
  fromKey?: boolean;
}

/** SortTarget is the field a range is sorted by. */
export type SortTarget = "key" | "version" | "create" | "mod" | "value";
/** SortOrder is the direction of a sort. */
export type SortOrder = "none" | "ascend" | "descend";

/** RangeOptions are the options of `get` (and of `Op.get` in a txn). */
export interface RangeOptions extends KeyRange {
  /** limit caps the number of keys returned (0: no limit); `more` tells if keys were left out. */
  limit?: number;
  /** revision reads the store as of that revision (0 or absent: latest). */
  revision?: RevisionLike;
  sortBy?: SortTarget;
  sortOrder?: SortOrder;
  /** serializable reads the local member's state without a quorum round (may be stale). */
  serializable?: boolean;
  /** keysOnly leaves the values out. */
  keysOnly?: boolean;
  /** countOnly returns only the count. */
  countOnly?: boolean;
  minModRevision?: RevisionLike;
  maxModRevision?: RevisionLike;
  minCreateRevision?: RevisionLike;
  maxCreateRevision?: RevisionLike;
}

/** RangeResult is the answer to a get. */
export interface RangeResult {
  header: ResponseHeader;
  kvs: KeyValue[];
  /** more is true when `limit` left keys out. */
  more: boolean;
  /** count is the number of keys in the range (ignoring limit). */
  count: number;
}

/** PutOptions are the options of `put`. */
export interface PutOptions {
  /** lease attaches the key to a lease (0n / absent: none). */
  lease?: bigint;
  /** prevKv returns the key's previous state. */
  prevKv?: boolean;
  /** ignoreValue keeps the current value (the key must exist; pass an empty value). */
  ignoreValue?: boolean;
  /** ignoreLease keeps the current lease (the key must exist). */
  ignoreLease?: boolean;
}

/** PutResult is the answer to a put. */
export interface PutResult {
  header: ResponseHeader;
  /** prevKv is the previous state, when asked for and the key existed. */
  prevKv?: KeyValue;
}

/** DeleteOptions are the options of `delete`. */
export interface DeleteOptions extends KeyRange {
  /** prevKv returns the deleted keys' last states. */
  prevKv?: boolean;
}

/** DeleteResult is the answer to a delete. */
export interface DeleteResult {
  header: ResponseHeader;
  /** deleted is the number of keys deleted. */
  deleted: number;
  prevKvs: KeyValue[];
}

/** rangeEndOf computes the wire range_end of a key and a KeyRange (empty: the single key). */
export function rangeEndOf(key: Uint8Array, range: KeyRange): Uint8Array {
  const chosen = [range.end !== undefined, range.prefix === true, range.fromKey === true].filter(
    Boolean,
  ).length;
  if (chosen > 1) throw new TypeError("etcd-ts client: end, prefix and fromKey are mutually exclusive");
  if (range.end !== undefined) return toBytes(range.end);
  if (range.prefix === true) return key.length === 0 ? ALL_KEYS_END : prefixEnd(key);
  if (range.fromKey === true) return ALL_KEYS_END;
  return new Uint8Array();
}

/** keyOrAll maps the empty key with a prefix/fromKey range to "\0", which etcd needs for "all keys". */
function keyOrAll(key: Uint8Array, range: KeyRange): Uint8Array {
  if (key.length === 0 && (range.prefix === true || range.fromKey === true)) return ALL_KEYS_END;
  return key;
}

const sortTargets: Record<SortTarget, RangeRequest_SortTarget> = {
  key: RangeRequest_SortTarget.KEY,
  version: RangeRequest_SortTarget.VERSION,
  create: RangeRequest_SortTarget.CREATE,
  mod: RangeRequest_SortTarget.MOD,
  value: RangeRequest_SortTarget.VALUE,
};
const sortOrders: Record<SortOrder, RangeRequest_SortOrder> = {
  none: RangeRequest_SortOrder.NONE,
  ascend: RangeRequest_SortOrder.ASCEND,
  descend: RangeRequest_SortOrder.DESCEND,
};

/** rangeRequest builds a RangeRequest. */
export function rangeRequest(
  key: Bytes,
  options: RangeOptions = {},
): MessageInitShape<typeof RangeRequestSchema> {
  const k = toBytes(key);
  return {
    key: keyOrAll(k, options),
    rangeEnd: rangeEndOf(k, options),
    limit: BigInt(options.limit ?? 0),
    revision: toRevision(options.revision ?? 0),
    sortOrder: sortOrders[options.sortOrder ?? "none"],
    sortTarget: sortTargets[options.sortBy ?? "key"],
    serializable: options.serializable ?? false,
    keysOnly: options.keysOnly ?? false,
    countOnly: options.countOnly ?? false,
    minModRevision: toRevision(options.minModRevision ?? 0),
    maxModRevision: toRevision(options.maxModRevision ?? 0),
    minCreateRevision: toRevision(options.minCreateRevision ?? 0),
    maxCreateRevision: toRevision(options.maxCreateRevision ?? 0),
  };
}

/** putRequest builds a PutRequest. */
export function putRequest(
  key: Bytes,
  value: Bytes,
  options: PutOptions = {},
): MessageInitShape<typeof PutRequestSchema> {
  return {
    key: toBytes(key),
    value: toBytes(value),
    lease: options.lease ?? 0n,
    prevKv: options.prevKv ?? false,
    ignoreValue: options.ignoreValue ?? false,
    ignoreLease: options.ignoreLease ?? false,
  };
}

/** deleteRequest builds a DeleteRangeRequest. */
export function deleteRequest(
  key: Bytes,
  options: DeleteOptions = {},
): MessageInitShape<typeof DeleteRangeRequestSchema> {
  const k = toBytes(key);
  return { key: keyOrAll(k, options), rangeEnd: rangeEndOf(k, options), prevKv: options.prevKv ?? false };
}

/** toRangeResult converts a RangeResponse. */
export function toRangeResult(response: RangeResponse): RangeResult {
  return {
    header: toHeader(response.header),
    kvs: response.kvs.map(toKeyValue),
    more: response.more,
    count: Number(response.count),
  };
}

/** toPutResult converts a PutResponse. */
export function toPutResult(response: PutResponse): PutResult {
  const result: PutResult = { header: toHeader(response.header) };
  if (response.prevKv !== undefined) result.prevKv = toKeyValue(response.prevKv);
  return result;
}

/** toDeleteResult converts a DeleteRangeResponse. */
export function toDeleteResult(response: DeleteRangeResponse): DeleteResult {
  return {
    header: toHeader(response.header),
    deleted: Number(response.deleted),
    prevKvs: response.prevKvs.map(toKeyValue),
  };
}
