import type { KeyValue } from "@etcd-ts/proto/mvccpb";
import { assert } from "./assert.js";

// A hand-written codec for mvccpb.KeyValue, the one message the store encodes and decodes per revision: the
// generic reflective codec dominated put and reopen profiles. Output is byte-identical to protobuf-es
// `toBinary(KeyValueSchema, kv)` (fields in number order, proto3 zero values omitted), which the tests check.

const EMPTY: Uint8Array = new Uint8Array(0);
const UINT64_MASK = (1n << 64n) - 1n;

function varintSize(value: bigint): number {
  let v = value < 0n ? value & UINT64_MASK : value;
  let size = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, offset: number, value: bigint): number {
  let at = offset;
  if (value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    let v = Number(value);
    while (v >= 0x80) {
      out[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    out[at++] = v;
    return at;
  }
  let v = value & UINT64_MASK;
  while (v >= 0x80n) {
    out[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[at++] = Number(v);
  return at;
}

function lengthSize(length: number): number {
  return varintSize(BigInt(length));
}

/** encodeKeyValue serializes a KeyValue in protobuf wire format. */
export function encodeKeyValue(kv: KeyValue): Uint8Array {
  let size = 0;
  if (kv.key.length > 0) size += 1 + lengthSize(kv.key.length) + kv.key.length;
  if (kv.createRevision !== 0n) size += 1 + varintSize(kv.createRevision);
  if (kv.modRevision !== 0n) size += 1 + varintSize(kv.modRevision);
  if (kv.version !== 0n) size += 1 + varintSize(kv.version);
  if (kv.value.length > 0) size += 1 + lengthSize(kv.value.length) + kv.value.length;
  if (kv.lease !== 0n) size += 1 + varintSize(kv.lease);
  const out = new Uint8Array(size);
  let at = 0;
  if (kv.key.length > 0) {
    out[at++] = 0x0a;
    at = writeVarint(out, at, BigInt(kv.key.length));
    out.set(kv.key, at);
    at += kv.key.length;
  }
  if (kv.createRevision !== 0n) {
    out[at++] = 0x10;
    at = writeVarint(out, at, kv.createRevision);
  }
  if (kv.modRevision !== 0n) {
    out[at++] = 0x18;
    at = writeVarint(out, at, kv.modRevision);
  }
  if (kv.version !== 0n) {
    out[at++] = 0x20;
    at = writeVarint(out, at, kv.version);
  }
  if (kv.value.length > 0) {
    out[at++] = 0x2a;
    at = writeVarint(out, at, BigInt(kv.value.length));
    out.set(kv.value, at);
    at += kv.value.length;
  }
  if (kv.lease !== 0n) {
    out[at++] = 0x30;
    at = writeVarint(out, at, kv.lease);
  }
  assert(at === size, "KeyValue encoding size mismatch");
  return out;
}

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  /** varint reads an unsigned varint as a safe number when it fits, else as a bigint. */
  varint(): number | bigint {
    let low = 0;
    let shift = 1;
    for (let i = 0; i < 7; i++) {
      const byte = this.bytes[this.at++];
      assert(byte !== undefined, "truncated varint in stored KeyValue");
      low += (byte & 0x7f) * shift;
      if (byte < 0x80) return low;
      shift *= 0x80;
    }
    // More than 49 bits: finish in bigint.
    let value = BigInt(low);
    let bigShift = 49n;
    for (let i = 7; i < 10; i++) {
      const byte = this.bytes[this.at++];
      assert(byte !== undefined, "truncated varint in stored KeyValue");
      value |= BigInt(byte & 0x7f) << bigShift;
      if (byte < 0x80) return value;
      bigShift += 7n;
    }
    throw new Error("mvcc: assertion failed: varint too long in stored KeyValue");
  }

  int64(): bigint {
    const v = this.varint();
    const big = typeof v === "number" ? BigInt(v) : v;
    return BigInt.asIntN(64, big);
  }

  length(): number {
    const v = this.varint();
    assert(typeof v === "number" && this.at + v <= this.bytes.length, "bad length in stored KeyValue");
    return v;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.at += 8;
        return;
      case 2: {
        const length = this.length();
        this.at += length;
        return;
      }
      case 5:
        this.at += 4;
        return;
      default:
        throw new Error(`mvcc: assertion failed: unexpected wire type ${wireType} in stored KeyValue`);
    }
  }
}

/** copyOf copies a range into a plain Uint8Array (a Buffer's slice would be a view of the whole chunk). */
function copyOf(bytes: Uint8Array, at: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + at, length).slice();
}

/**
 * decodeKeyValue reads a KeyValue written by encodeKeyValue (or any protobuf encoder). `copyValue` false
 * leaves the value empty, for index rebuilds that never look at it.
 */
export function decodeKeyValue(bytes: Uint8Array, copyValue = true): KeyValue {
  const reader = new Reader(bytes);
  let key = EMPTY;
  let value = EMPTY;
  let createRevision = 0n;
  let modRevision = 0n;
  let version = 0n;
  let lease = 0n;
  while (reader.at < bytes.length) {
    const tag = reader.varint();
    assert(typeof tag === "number", "bad tag in stored KeyValue");
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1 && wireType === 2) {
      const length = reader.length();
      key = copyOf(bytes, reader.at, length);
      reader.at += length;
    } else if (field === 5 && wireType === 2) {
      const length = reader.length();
      if (copyValue) value = copyOf(bytes, reader.at, length);
      reader.at += length;
    } else if (field === 2 && wireType === 0) {
      createRevision = reader.int64();
    } else if (field === 3 && wireType === 0) {
      modRevision = reader.int64();
    } else if (field === 4 && wireType === 0) {
      version = reader.int64();
    } else if (field === 6 && wireType === 0) {
      lease = reader.int64();
    } else {
      reader.skip(wireType);
    }
  }
  assert(reader.at === bytes.length, "stored KeyValue overruns its bytes");
  return { $typeName: "mvccpb.KeyValue", key, createRevision, modRevision, version, value, lease };
}

/** KeyValueMeta is what the index needs from a stored KeyValue, read without copying the key or value. */
export interface KeyValueMeta {
  /** key is the user key as a binary (latin1) string. */
  readonly key: string;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: bigint;
}

function keyString(bytes: Uint8Array, at: number, length: number): string {
  // Node's Buffer (what classic-level hands out) slices latin1 without an intermediate copy.
  if (Buffer.isBuffer(bytes)) return bytes.toString("latin1", at, at + length);
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString("latin1");
}

/** decodeKeyValueMeta reads the key, creation revision, version and lease of a stored KeyValue (index rebuild). */
export function decodeKeyValueMeta(bytes: Uint8Array): KeyValueMeta {
  const reader = new Reader(bytes);
  let key = "";
  let createRevision = 0;
  let version = 0;
  let lease = 0n;
  while (reader.at < bytes.length) {
    const tag = reader.varint();
    assert(typeof tag === "number", "bad tag in stored KeyValue");
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1 && wireType === 2) {
      const length = reader.length();
      key = keyString(bytes, reader.at, length);
      reader.at += length;
    } else if ((field === 2 || field === 4) && wireType === 0) {
      const value = reader.varint();
      assert(typeof value === "number", "stored revision or version beyond the safe integer range");
      if (field === 2) createRevision = value;
      else version = value;
    } else if (field === 6 && wireType === 0) {
      lease = reader.int64();
    } else {
      reader.skip(wireType);
    }
  }
  assert(reader.at === bytes.length, "stored KeyValue overruns its bytes");
  return { key, createRevision, version, lease };
}
