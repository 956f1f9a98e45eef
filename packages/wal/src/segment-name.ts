/**
 * Segment file names: `<seq>-<baseIndex>.wal`, both as 16 lowercase hex digits, so a plain sort orders
 * them by sequence. `baseIndex` is the last raft index written before the segment was started: the
 * segment's entries follow it.
 */

/** SEGMENT_SUFFIX ends every segment file name. */
export const SEGMENT_SUFFIX = ".wal";
/** TEMP_SUFFIX ends files being prepared; they are not part of the log and are removed on open. */
export const TEMP_SUFFIX = ".tmp";

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** SegmentName is a parsed segment file name. */
export interface SegmentName {
  seq: number;
  baseIndex: number;
}

function hex16(value: number): string {
  return value.toString(16).padStart(16, "0");
}

/** formatSegmentName returns the file name of segment `seq` starting after `baseIndex`. */
export function formatSegmentName(seq: number, baseIndex: number): string {
  return `${hex16(seq)}-${hex16(baseIndex)}${SEGMENT_SUFFIX}`;
}

/** parseSegmentName parses a segment file name, or returns undefined when it is not one. */
export function parseSegmentName(name: string): SegmentName | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const seq = Number.parseInt(match[1]!, 16);
  const baseIndex = Number.parseInt(match[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(baseIndex)) return undefined;
  return { seq, baseIndex };
}
