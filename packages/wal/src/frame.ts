import { crc32c } from "./crc32c.js";

/**
 * The on-disk framing of a segment (all integers little-endian):
 *
 * ```
 * segment  = header frame* zero-fill
 * header   = "ETSWAL\0\0" (8 bytes) · u32 version (1) · u32 crc32c(bytes 0..12)        16 bytes
 * frame    = u32 length n · u32 batch · u8 flags · u8 pad · u16 0 · u32 frameCrc        16 bytes
 *            · record (n bytes, an etcdts.internal.v1.WalRecord) · pad zero bytes up to 8-byte alignment
 * ```
 *
 * `frameCrc` is the CRC-32C of the frame's first 12 bytes and the record, so a frame can be checked on its
 * own, wherever it is found; the WalRecord inside carries the checksum chained across all records. `batch`
 * numbers the write (one group commit) the frame belongs to and `flags` bit 0 marks the batch's last frame:
 * a batch is only taken when all its frames are intact, so a Ready is either recovered whole or not at all,
 * and a valid frame of a LATER batch after a bad one proves the bad one was synced (corruption, not a
 * torn write). A zero length is never written: it marks the zero-filled space after the last frame.
 */

/** SEGMENT_HEADER_BYTES is the size of a segment's file header; the first frame starts after it. */
export const SEGMENT_HEADER_BYTES = 16;
/** FRAME_HEADER_BYTES is the size of a frame's header. */
export const FRAME_HEADER_BYTES = 16;
/** FRAME_ALIGN_BYTES is the alignment of every frame. */
export const FRAME_ALIGN_BYTES = 8;
/** FLAG_LAST_IN_BATCH marks the last frame of a batch. */
export const FLAG_LAST_IN_BATCH = 1;

const MAGIC = new Uint8Array([0x45, 0x54, 0x53, 0x57, 0x41, 0x4c, 0x00, 0x00]); // "ETSWAL\0\0"
const VERSION = 1;

/** encodeSegmentHeader returns the 16-byte header every segment file starts with. */
export function encodeSegmentHeader(): Uint8Array {
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  header.set(MAGIC, 0);
  const view = new DataView(header.buffer);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, crc32c(header, 0, 0, 12), true);
  return header;
}

/** checkSegmentHeader returns undefined when `bytes` starts with a valid header, else the reason. */
export function checkSegmentHeader(bytes: Uint8Array): string | undefined {
  if (bytes.length < SEGMENT_HEADER_BYTES) return "file shorter than the segment header";
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) return "not an etcd-ts WAL segment (bad magic)";
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (view.getUint32(12, true) !== crc32c(bytes, 0, 0, 12)) return "segment header checksum mismatch";
  const version = view.getUint32(8, true);
  if (version !== VERSION) return `unsupported segment version ${version}`;
  return undefined;
}

/** padBytes returns how many zero bytes follow a record of `length` bytes. */
export function padBytes(length: number): number {
  return (FRAME_ALIGN_BYTES - (length % FRAME_ALIGN_BYTES)) % FRAME_ALIGN_BYTES;
}

/** frameBytes returns the full size of the frame of a record of `length` bytes. */
export function frameBytes(length: number): number {
  return FRAME_HEADER_BYTES + length + padBytes(length);
}

/**
 * sealFrame completes a frame whose record (`length` bytes) is already in `out` at `offset` + 16: writes
 * the header, the frame checksum and the zero padding, and returns the offset after the frame.
 */
export function sealFrame(
  out: Uint8Array,
  offset: number,
  length: number,
  batch: number,
  flags: number,
): number {
  const pad = padBytes(length);
  const view = new DataView(out.buffer, out.byteOffset + offset, FRAME_HEADER_BYTES);
  view.setUint32(0, length, true);
  view.setUint32(4, batch >>> 0, true);
  view.setUint8(8, flags);
  view.setUint8(9, pad);
  view.setUint16(10, 0, true);
  const recordStart = offset + FRAME_HEADER_BYTES;
  const crc = crc32c(out, crc32c(out, 0, offset, offset + 12), recordStart, recordStart + length);
  view.setUint32(12, crc, true);
  const end = recordStart + length;
  out.fill(0, end, end + pad);
  return end + pad;
}

/** A Frame read from a segment: where it is, which batch it belongs to, and its record bytes. */
export interface Frame {
  offset: number;
  batch: number;
  last: boolean;
  record: Uint8Array;
  /** Offset of the next frame. */
  end: number;
}

/** FrameProblem says why no frame could be read at an offset. */
export type FrameProblem = "zero" | "truncated" | "too-large" | "bad-header" | "checksum";

/**
 * readFrame reads the frame at `offset` of `bytes`, checking it on its own (length bound, header shape,
 * frame checksum). It never allocates for the record (it returns a view) and rejects a length above
 * `maxRecordBytes` before looking further, so absurd length fields cost nothing.
 */
export function readFrame(bytes: Uint8Array, offset: number, maxRecordBytes: number): Frame | FrameProblem {
  if (offset + FRAME_HEADER_BYTES > bytes.length) {
    for (let i = offset; i < bytes.length; i++) if (bytes[i] !== 0) return "truncated";
    return "zero";
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, FRAME_HEADER_BYTES);
  const length = view.getUint32(0, true);
  if (length === 0) {
    for (let i = 4; i < FRAME_HEADER_BYTES; i++) if (view.getUint8(i) !== 0) return "bad-header";
    return "zero";
  }
  if (length > maxRecordBytes) return "too-large";
  const flags = view.getUint8(8);
  const pad = view.getUint8(9);
  if ((flags & ~FLAG_LAST_IN_BATCH) !== 0 || pad !== padBytes(length) || view.getUint16(10, true) !== 0) {
    return "bad-header";
  }
  const recordStart = offset + FRAME_HEADER_BYTES;
  const end = recordStart + length + pad;
  if (end > bytes.length) return "truncated";
  const crc = crc32c(bytes, crc32c(bytes, 0, offset, offset + 12), recordStart, recordStart + length);
  if (crc !== view.getUint32(12, true)) return "checksum";
  return {
    offset,
    batch: view.getUint32(4, true),
    last: (flags & FLAG_LAST_IN_BATCH) !== 0,
    record: bytes.subarray(recordStart, recordStart + length),
    end,
  };
}
