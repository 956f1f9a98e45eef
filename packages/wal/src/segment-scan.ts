import { WalFormatError } from "./errors.js";
import {
  checkSegmentHeader,
  FRAME_ALIGN_BYTES,
  FRAME_HEADER_BYTES,
  type Frame,
  readFrame,
  SEGMENT_HEADER_BYTES,
} from "./frame.js";
import { isZeroBlock, ZERO_BLOCK_BYTES } from "./fs.js";

/** A batch read back whole: all its frames were intact, the last one carried the batch's end flag. */
export interface ScannedBatch {
  batch: number;
  frames: Frame[];
}

/** SegmentScan is what a segment's bytes hold, and what is wrong at its end, if anything. */
export interface SegmentScan {
  /** The complete batches, in order. */
  batches: ScannedBatch[];
  /** Offset just after the last complete batch: where the next write goes. */
  end: number;
  /** Set when an incomplete tail (a torn write) follows `end`: it is to be cut off. */
  torn?: { offset: number; reason: string };
  /** Set when a durable record is damaged: valid data follows it, so it must not be cut off. */
  corrupt?: { offset: number; reason: string };
}

/**
 * scanSegment reads the frames of one segment and classifies what it finds after the last complete batch.
 *
 * A crash can only damage the last write, which is one batch, at the end of the last segment. So a bad
 * or missing frame is a torn tail when (1) it is in the last segment, (2) it is not in the segment's first
 * batch (written and synced before the segment got its name), and (3) no valid frame of a LATER batch
 * follows it anywhere in the file. Otherwise the damage hit synced data: `corrupt` is set, and the caller
 * refuses to open rather than cut acknowledged records off.
 *
 * `zeroFrom` may tell that every byte from that offset on is zero (the reader saw it; see
 * {@link zeroTailOf}), which spares a scan of the pre-allocated rest of the segment.
 */
export function scanSegment(
  file: string,
  bytes: Uint8Array,
  isLast: boolean,
  maxRecordBytes: number,
  zeroFrom: number = bytes.length,
): SegmentScan {
  const headerProblem = checkSegmentHeader(bytes);
  if (headerProblem !== undefined) throw new WalFormatError(file, headerProblem);

  const batches: ScannedBatch[] = [];
  let pending: Frame[] = [];
  let pendingStart = SEGMENT_HEADER_BYTES;
  let expectedBatch: number | undefined;
  let offset = SEGMENT_HEADER_BYTES;

  for (;;) {
    const frame = readFrame(bytes, offset, maxRecordBytes);
    if (typeof frame === "string") {
      const end = pending.length > 0 ? pendingStart : offset;
      const tornBatch = pending.length > 0 ? pending[0]!.batch : expectedBatch;
      if (frame === "zero" && pending.length === 0) {
        // The usual end: the zero-filled space after the last batch. A valid frame further on means
        // a durable frame was zeroed.
        if (hasFrameOfLaterBatch(bytes, offset, tornBatch, maxRecordBytes, zeroFrom)) {
          return { batches, end, corrupt: { offset, reason: "zeroed record followed by valid records" } };
        }
        return { batches, end };
      }
      const reason = pending.length > 0 && frame === "zero" ? "batch ends without its last record" : frame;
      if (!isLast) return { batches, end, corrupt: { offset, reason: `${reason} (not the last segment)` } };
      if (batches.length === 0) {
        return { batches, end, corrupt: { offset, reason: `${reason} (in the segment's first batch)` } };
      }
      if (hasFrameOfLaterBatch(bytes, offset, tornBatch, maxRecordBytes, zeroFrom)) {
        return { batches, end, corrupt: { offset, reason: `${reason}, followed by valid records` } };
      }
      return { batches, end, torn: { offset, reason } };
    }
    if (pending.length === 0) {
      if (expectedBatch !== undefined && frame.batch !== expectedBatch) {
        return {
          batches,
          end: offset,
          corrupt: { offset, reason: `batch ${frame.batch} where batch ${expectedBatch} was expected` },
        };
      }
      pendingStart = offset;
    } else if (frame.batch !== pending[0]!.batch) {
      return {
        batches,
        end: pendingStart,
        corrupt: {
          offset,
          reason: `batch ${pending[0]!.batch} has no last record before batch ${frame.batch}`,
        },
      };
    }
    pending.push(frame);
    offset = frame.end;
    if (frame.last) {
      batches.push({ batch: frame.batch, frames: pending });
      expectedBatch = (frame.batch + 1) >>> 0;
      pending = [];
    }
  }
}

/**
 * isLaterBatch tells whether batch number `batch` comes after `reference` (numbers wrap at 2^32; "after"
 * is the next half of the circle). Without a reference, any batch counts.
 */
function isLaterBatch(batch: number, reference: number | undefined): boolean {
  if (reference === undefined) return true;
  const distance = (batch - reference) >>> 0;
  return distance !== 0 && distance < 2 ** 31;
}

/**
 * hasFrameOfLaterBatch tells whether a valid frame of a batch later than `tornBatch` starts at any
 * aligned offset after `from`. Such a frame was written by a later write, which the WAL only issues after
 * the earlier one was synced. (Frames of the torn batch itself, or of no plausible batch, such as an image
 * of a frame inside an entry's data, do not count.)
 */
function hasFrameOfLaterBatch(
  bytes: Uint8Array,
  from: number,
  tornBatch: number | undefined,
  maxRecordBytes: number,
  zeroFrom: number,
): boolean {
  // No frame starts where every byte is zero (a frame's length is never 0): past zeroFrom nothing starts.
  const limit = Math.min(bytes.length - FRAME_HEADER_BYTES, zeroFrom - 1);
  // Zero-filled space (the preallocated rest of a segment, tens of MB) is skipped a block at a time with
  // one memcmp per block; a frame never has length 0, so only words that are not zero need a closer look.
  // Blocks start at aligned offsets (ZERO_BLOCK_BYTES is a multiple of FRAME_ALIGN_BYTES).
  let at = from + FRAME_ALIGN_BYTES;
  while (at <= limit) {
    if ((at - from) % ZERO_BLOCK_BYTES === 0 && at + ZERO_BLOCK_BYTES <= bytes.length) {
      if (isZeroBlock(bytes.subarray(at, at + ZERO_BLOCK_BYTES))) {
        at += ZERO_BLOCK_BYTES;
        continue;
      }
    }
    if ((bytes[at]! | bytes[at + 1]! | bytes[at + 2]! | bytes[at + 3]!) === 0) {
      at += FRAME_ALIGN_BYTES;
      continue;
    }
    const frame = readFrame(bytes, at, maxRecordBytes);
    if (typeof frame !== "string" && isLaterBatch(frame.batch, tornBatch)) return true;
    at += FRAME_ALIGN_BYTES;
  }
  return false;
}
