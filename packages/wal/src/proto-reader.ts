/**
 * ProtoReader is a minimal protobuf wire-format reader for the two messages on the WAL's read hot path
 * (WalRecord and Entry), which are decoded once per entry at every start. It only handles what those
 * messages need: varints as safe-integer numbers, length-delimited fields as views, and skipping unknown
 * fields. Anything malformed throws ProtoReadError. The generated schemas stay the reference: the tests
 * check this reader against protobuf-es on valid and mutated input.
 */

/** ProtoReadError: the bytes are not a well-formed protobuf message. */
export class ProtoReadError extends Error {
  override name = "ProtoReadError";
}

/** The largest field number protobuf allows. */
const MAX_FIELD_NUMBER = 2 ** 29 - 1;

/** WIRE_VARINT etc. are the protobuf wire types this reader understands. */
export const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
/** WIRE_LENGTH_DELIMITED is the wire type of bytes, strings and messages. */
export const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** ProtoReader reads fields from `bytes` front to back. */
export class ProtoReader {
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** done tells whether every byte was read. */
  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  /** tag reads a field tag and returns [field number, wire type]. */
  tag(): [number, number] {
    const tag = this.varint();
    if (tag > 0xffffffff) throw new ProtoReadError("tag beyond 32 bits");
    const field = Math.floor(tag / 8);
    if (field === 0 || field > MAX_FIELD_NUMBER) throw new ProtoReadError(`bad field number ${field}`);
    return [field, tag % 8];
  }

  /** varint reads an unsigned varint; values beyond Number.MAX_SAFE_INTEGER are an error. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.bytes.length) throw new ProtoReadError("varint runs past the end");
      const byte = this.bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) throw new ProtoReadError("varint beyond the safe integers");
        return value;
      }
      scale *= 128;
    }
    throw new ProtoReadError("varint longer than 10 bytes");
  }

  /** bytes reads a length-delimited field and returns a view of it (no copy). */
  lengthDelimited(): Uint8Array {
    const length = this.varint();
    const end = this.at + length;
    if (end > this.bytes.length) throw new ProtoReadError("length-delimited field runs past the end");
    const view = this.bytes.subarray(this.at, end);
    this.at = end;
    return view;
  }

  /** skip skips a field of an unknown number. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varintAnySize();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new ProtoReadError(`unsupported wire type ${wireType}`);
    }
  }

  /** expect throws unless `wireType` is the one a known field must have. */
  static expect(field: number, wireType: number, expected: number): void {
    if (wireType !== expected) throw new ProtoReadError(`field ${field} has wire type ${wireType}`);
  }

  private varintAnySize(): void {
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.bytes.length) throw new ProtoReadError("varint runs past the end");
      if (this.bytes[this.at++]! < 0x80) return;
    }
    throw new ProtoReadError("varint longer than 10 bytes");
  }

  private advance(count: number): void {
    if (this.at + count > this.bytes.length) throw new ProtoReadError("fixed field runs past the end");
    this.at += count;
  }
}
