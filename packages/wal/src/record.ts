import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WalMetadataSchema, WalRecordType, WalSnapshotMarkerSchema } from "@etcd-ts/proto/internal/wal";
import { type ConfState as ConfStatePb, ConfStateSchema, HardStateSchema } from "@etcd-ts/proto/raft";
import { assert } from "./assert.js";
import { ProtoReadError, ProtoReader, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from "./proto-reader.js";
import type { ConfState, Entry, HardState, WalMetadata, WalSnapshot } from "./types.js";

/**
 * The conversion between the WAL's records (protobuf, int64 as bigint) and the plain shapes the rest of
 * etcd-ts uses (indexes and terms as safe-integer numbers). Writing asserts the conversion (a caller bug);
 * reading reports a value that does not fit as a {@link RecordDecodeError} (the bytes are bad).
 */

export { WalRecordType };

/** A decoded record: its type, chained checksum and payload. */
export interface DecodedRecord {
  type: WalRecordType;
  crc: number;
  data: Uint8Array;
}

/** RecordDecodeError: record bytes that passed their frame checksum but do not decode. */
export class RecordDecodeError extends Error {
  override name = "RecordDecodeError";
}

/**
 * The two messages on the write path (WalRecord and Entry) are encoded by hand: they are written once per
 * entry, and the generic encoder costs several microseconds each. The output is byte-for-byte what
 * protobuf-es writes for the same message (proto3: zero scalars and empty bytes omitted), which
 * record.test.ts checks against toBinary. Everything else, and all reading, uses the generated schemas.
 */

/** varintBytes returns the size of the varint encoding of a non-negative safe integer. */
function varintBytes(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

/** writeVarint writes a non-negative safe integer as a varint at `at` and returns the offset after it. */
function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** recordBytes returns the encoded size of a WalRecord with this type, checksum and payload length. */
export function recordBytes(type: WalRecordType, crc: number, dataLength: number): number {
  return (
    (type !== 0 ? 1 + varintBytes(type) : 0) +
    (crc !== 0 ? 1 + varintBytes(crc) : 0) +
    (dataLength > 0 ? 1 + varintBytes(dataLength) + dataLength : 0)
  );
}

/**
 * writeRecord encodes a WalRecord into `out` at `at` (exactly recordBytes(type, crc, data.length) bytes)
 * and returns the offset after it. Writing in place spares the write path a buffer and a copy per record.
 */
export function writeRecord(
  out: Uint8Array,
  at: number,
  type: WalRecordType,
  crc: number,
  data: Uint8Array,
): number {
  if (type !== 0) {
    out[at++] = 0x08; // field 1, varint
    at = writeVarint(out, at, type);
  }
  if (crc !== 0) {
    out[at++] = 0x10; // field 2, varint
    at = writeVarint(out, at, crc);
  }
  if (data.length > 0) {
    out[at++] = 0x1a; // field 3, length-delimited
    at = writeVarint(out, at, data.length);
    out.set(data, at);
    at += data.length;
  }
  return at;
}

/** encodeRecord returns the WalRecord bytes for `data` with its (already chained) checksum `crc`. */
export function encodeRecord(type: WalRecordType, data: Uint8Array, crc: number): Uint8Array {
  const out = new Uint8Array(recordBytes(type, crc, data.length));
  const end = writeRecord(out, 0, type, crc, data);
  assert(end === out.length, "WalRecord encoding fills its buffer");
  return out;
}

/** decodeRecord parses WalRecord bytes (by hand, like encodeRecord). */
export function decodeRecord(bytes: Uint8Array): DecodedRecord {
  try {
    const reader = new ProtoReader(bytes);
    let type = 0;
    let crc = 0;
    let data: Uint8Array = EMPTY;
    while (!reader.done) {
      const [field, wire] = reader.tag();
      switch (field) {
        case 1:
          ProtoReader.expect(field, wire, WIRE_VARINT);
          type = reader.varint();
          break;
        case 2:
          ProtoReader.expect(field, wire, WIRE_VARINT);
          crc = reader.varint();
          if (crc > 0xffffffff) throw new ProtoReadError("crc beyond 32 bits");
          break;
        case 3:
          ProtoReader.expect(field, wire, WIRE_LENGTH_DELIMITED);
          data = reader.lengthDelimited();
          break;
        default:
          reader.skip(wire);
      }
    }
    return { type: type as WalRecordType, crc, data };
  } catch (error) {
    if (error instanceof ProtoReadError) throw new RecordDecodeError(`bad WalRecord: ${error.message}`);
    throw error;
  }
}

const EMPTY: Uint8Array = new Uint8Array(0);

function toUint64(value: number, what: string): bigint {
  assert(
    Number.isSafeInteger(value) && value >= 0,
    `${what} must be a non-negative safe integer, got ${value}`,
  );
  return BigInt(value);
}

function fromUint64(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RecordDecodeError(`${what} ${value} is not a safe integer`);
  }
  return Number(value);
}

/** encodeEntry returns the etcdts.raft.v1.Entry bytes of `entry` (by hand; see encodeRecord). */
export function encodeEntry(entry: Entry): Uint8Array {
  const { term, index, type, data } = entry;
  assert(type === 0 || type === 1 || type === 2, `unknown entry type ${type}`);
  assert(
    Number.isSafeInteger(term) && term >= 0,
    `entry term must be a non-negative safe integer, got ${term}`,
  );
  assert(
    Number.isSafeInteger(index) && index >= 0,
    `entry index must be a non-negative safe integer, got ${index}`,
  );
  const size =
    (term !== 0 ? 1 + varintBytes(term) : 0) +
    (index !== 0 ? 1 + varintBytes(index) : 0) +
    (type !== 0 ? 2 : 0) +
    (data.length > 0 ? 1 + varintBytes(data.length) + data.length : 0);
  const out = new Uint8Array(size);
  let at = 0;
  if (term !== 0) {
    out[at++] = 0x08; // field 1, varint
    at = writeVarint(out, at, term);
  }
  if (index !== 0) {
    out[at++] = 0x10; // field 2, varint
    at = writeVarint(out, at, index);
  }
  if (type !== 0) {
    out[at++] = 0x18; // field 3, varint
    out[at++] = type;
  }
  if (data.length > 0) {
    out[at++] = 0x22; // field 4, length-delimited
    at = writeVarint(out, at, data.length);
    out.set(data, at);
    at += data.length;
  }
  assert(at === size, "Entry encoding fills its buffer");
  return out;
}

/** decodeEntry parses etcdts.raft.v1.Entry bytes (by hand, like encodeEntry). */
export function decodeEntry(bytes: Uint8Array): Entry {
  try {
    const reader = new ProtoReader(bytes);
    let term = 0;
    let index = 0;
    let type = 0;
    let data: Uint8Array = EMPTY;
    while (!reader.done) {
      const [field, wire] = reader.tag();
      switch (field) {
        case 1:
          ProtoReader.expect(field, wire, WIRE_VARINT);
          term = reader.varint();
          break;
        case 2:
          ProtoReader.expect(field, wire, WIRE_VARINT);
          index = reader.varint();
          break;
        case 3:
          ProtoReader.expect(field, wire, WIRE_VARINT);
          type = reader.varint();
          break;
        case 4:
          ProtoReader.expect(field, wire, WIRE_LENGTH_DELIMITED);
          data = reader.lengthDelimited();
          break;
        default:
          reader.skip(wire);
      }
    }
    if (type !== 0 && type !== 1 && type !== 2) throw new RecordDecodeError(`unknown entry type ${type}`);
    return { term, index, type, data };
  } catch (error) {
    if (error instanceof ProtoReadError) throw new RecordDecodeError(`bad Entry: ${error.message}`);
    throw error;
  }
}

/** encodeHardState returns the etcdts.raft.v1.HardState bytes of `state` (by hand; one per save). */
export function encodeHardState(state: HardState): Uint8Array {
  const { term, vote, commit } = state;
  assert(Number.isSafeInteger(term) && term >= 0, `hard state term must be a safe integer, got ${term}`);
  assert(
    Number.isSafeInteger(commit) && commit >= 0,
    `hard state commit must be a safe integer, got ${commit}`,
  );
  assert(vote >= 0n && vote < 2n ** 64n, "vote must be a uint64");
  const voteBytes = vote === 0n ? 0 : 1 + bigVarintBytes(vote);
  const size =
    (term !== 0 ? 1 + varintBytes(term) : 0) + voteBytes + (commit !== 0 ? 1 + varintBytes(commit) : 0);
  const out = new Uint8Array(size);
  let at = 0;
  if (term !== 0) {
    out[at++] = 0x08; // field 1, varint
    at = writeVarint(out, at, term);
  }
  if (vote !== 0n) {
    out[at++] = 0x10; // field 2, varint
    at = writeBigVarint(out, at, vote);
  }
  if (commit !== 0) {
    out[at++] = 0x18; // field 3, varint
    at = writeVarint(out, at, commit);
  }
  assert(at === size, "HardState encoding fills its buffer");
  return out;
}

function bigVarintBytes(value: bigint): number {
  let n = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    n++;
  }
  return n;
}

function writeBigVarint(out: Uint8Array, at: number, value: bigint): number {
  while (value >= 0x80n) {
    out[at++] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  out[at++] = Number(value);
  return at;
}

/** decodeHardState parses etcdts.raft.v1.HardState bytes. */
export function decodeHardState(bytes: Uint8Array): HardState {
  const state = decodeOrThrow(() => fromBinary(HardStateSchema, bytes), "HardState");
  return {
    term: fromUint64(state.term, "hard state term"),
    vote: state.vote,
    commit: fromUint64(state.commit, "hard state commit"),
  };
}

/** encodeMetadata returns the WalMetadata bytes of `metadata`. */
export function encodeMetadata(metadata: WalMetadata): Uint8Array {
  assert(metadata.memberId >= 0n && metadata.clusterId >= 0n, "ids must be non-negative");
  return toBinary(
    WalMetadataSchema,
    create(WalMetadataSchema, { memberId: metadata.memberId, clusterId: metadata.clusterId }),
  );
}

/** decodeMetadata parses WalMetadata bytes. */
export function decodeMetadata(bytes: Uint8Array): WalMetadata {
  const metadata = decodeOrThrow(() => fromBinary(WalMetadataSchema, bytes), "WalMetadata");
  return { memberId: metadata.memberId, clusterId: metadata.clusterId };
}

/** confStateToPb converts the plain ConfState shape to protobuf. */
export function confStateToPb(state: ConfState): ConfStatePb {
  return create(ConfStateSchema, {
    voters: state.voters,
    learners: state.learners,
    votersOutgoing: state.votersOutgoing,
    learnersNext: state.learnersNext,
    autoLeave: state.autoLeave,
  });
}

/** confStateFromPb converts a protobuf ConfState to the plain shape. */
export function confStateFromPb(state: ConfStatePb | undefined): ConfState {
  return {
    voters: [...(state?.voters ?? [])],
    learners: [...(state?.learners ?? [])],
    votersOutgoing: [...(state?.votersOutgoing ?? [])],
    learnersNext: [...(state?.learnersNext ?? [])],
    autoLeave: state?.autoLeave ?? false,
  };
}

/** encodeSnapshotMarker returns the WalSnapshotMarker bytes of `marker`. */
export function encodeSnapshotMarker(marker: WalSnapshot): Uint8Array {
  return toBinary(
    WalSnapshotMarkerSchema,
    create(WalSnapshotMarkerSchema, {
      index: toUint64(marker.index, "snapshot index"),
      term: toUint64(marker.term, "snapshot term"),
      confState: marker.confState ? confStateToPb(marker.confState) : undefined,
    }),
  );
}

/** decodeSnapshotMarker parses WalSnapshotMarker bytes. */
export function decodeSnapshotMarker(bytes: Uint8Array): WalSnapshot {
  const marker = decodeOrThrow(() => fromBinary(WalSnapshotMarkerSchema, bytes), "WalSnapshotMarker");
  const out: WalSnapshot = {
    index: fromUint64(marker.index, "snapshot index"),
    term: fromUint64(marker.term, "snapshot term"),
  };
  if (marker.confState) out.confState = confStateFromPb(marker.confState);
  return out;
}

function decodeOrThrow<T>(decode: () => T, what: string): T {
  try {
    return decode();
  } catch (error) {
    throw new RecordDecodeError(`bad ${what}: ${String(error)}`);
  }
}
