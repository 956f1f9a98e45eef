/**
 * The client's view of etcd's records: a key-value pair with its revisions, and the response header.
 */
import type { ResponseHeader as ResponseHeaderPb } from "@etcd-ts/proto/etcdserverpb";
import type { KeyValue as KeyValuePb } from "@etcd-ts/proto/mvccpb";
import { bytesToString } from "./bytes.js";

/**
 * KeyValue is one key's state: bytes plus the revision bookkeeping etcd keeps. `keyString`/`valueString`
 * decode UTF-8 for convenience.
 */
export class KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** createRevision is the revision of the write that created the key (0 in a DELETE event). */
  readonly createRevision: bigint;
  /** modRevision is the revision of the key's last write (for a DELETE event: the deletion's revision). */
  readonly modRevision: bigint;
  /** version counts writes since the key was created (0 after a delete). */
  readonly version: bigint;
  /** lease is the ID of the lease the key is attached to (0n: none). */
  readonly lease: bigint;

  constructor(fields: {
    key: Uint8Array;
    value: Uint8Array;
    createRevision: bigint;
    modRevision: bigint;
    version: bigint;
    lease: bigint;
  }) {
    this.key = fields.key;
    this.value = fields.value;
    this.createRevision = fields.createRevision;
    this.modRevision = fields.modRevision;
    this.version = fields.version;
    this.lease = fields.lease;
  }

  /** keyString is the key decoded as UTF-8. */
  get keyString(): string {
    return bytesToString(this.key);
  }

  /** valueString is the value decoded as UTF-8. */
  get valueString(): string {
    return bytesToString(this.value);
  }
}

/** toKeyValue converts the wire message. */
export function toKeyValue(kv: KeyValuePb): KeyValue {
  return new KeyValue({
    key: kv.key,
    value: kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  });
}

/** ResponseHeader says which member answered, in which raft term, at which store revision. */
export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  /** revision is the store revision when the request was applied (0 for calls that do not touch the store). */
  revision: bigint;
  raftTerm: bigint;
}

/** toHeader converts the wire header (an absent header reads as zeros). */
export function toHeader(header: ResponseHeaderPb | undefined): ResponseHeader {
  return {
    clusterId: header?.clusterId ?? 0n,
    memberId: header?.memberId ?? 0n,
    revision: header?.revision ?? 0n,
    raftTerm: header?.raftTerm ?? 0n,
  };
}
