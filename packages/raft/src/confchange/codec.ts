import { assert } from "../assert.js";
import { ConfChangeError } from "../errors.js";
import type {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfChangeV2,
} from "../types.js";

/*
 * Protobuf encoding of raftpb.ConfChange and raftpb.ConfChangeV2, byte-compatible with etcd so that
 * conf-change entries in a WAL mean the same thing to both. Hand-written to keep the package free of
 * dependencies; only varint (0) and length-delimited (2) fields occur, others are skipped on decode.
 *
 *   ConfChange       { uint64 id = 1; ConfChangeType type = 2; uint64 node_id = 3; bytes context = 4; }
 *   ConfChangeSingle { ConfChangeType type = 1; uint64 node_id = 2; }
 *   ConfChangeV2     { ConfChangeTransition transition = 1; repeated ConfChangeSingle changes = 2; bytes context = 3; }
 */

class Writer {
  private readonly bytes: number[] = [];
  varint(v: bigint): void {
    assert(v >= 0n, "varint must be unsigned");
    let x = v;
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
  }
  tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  bytesField(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(BigInt(b.byteLength));
    for (const x of b) this.bytes.push(x);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  done(): boolean {
    return this.pos >= this.buf.byteLength;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.byteLength) throw new ConfChangeError("unexpected EOF");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ConfChangeError("proto: integer overflow");
    }
  }
  bytes(): Uint8Array {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.byteLength) throw new ConfChangeError("unexpected EOF");
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new ConfChangeError(`proto: illegal wireType ${wire}`);
    }
  }
  fields(f: (field: number, wire: number) => void): void {
    while (!this.done()) {
      const key = Number(this.varint());
      f(key >>> 3, key & 7);
    }
  }
}

/** encodeConfChange serializes a v1 ConfChange as raftpb does. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new Writer();
  w.tag(1, 0);
  w.varint(cc.id);
  w.tag(2, 0);
  w.varint(BigInt(cc.type));
  w.tag(3, 0);
  w.varint(cc.nodeId);
  if (cc.context.byteLength > 0) w.bytesField(4, cc.context);
  return w.finish();
}

/** decodeConfChange parses a v1 ConfChange. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const cc: ConfChange = { id: 0n, type: 0, nodeId: 0n, context: new Uint8Array(0) };
  const r = new Reader(data);
  r.fields((field, wire) => {
    if (field === 1 && wire === 0) cc.id = r.varint();
    else if (field === 2 && wire === 0) cc.type = Number(r.varint()) as ConfChangeType;
    else if (field === 3 && wire === 0) cc.nodeId = r.varint();
    else if (field === 4 && wire === 2) cc.context = r.bytes();
    else r.skip(wire);
  });
  return cc;
}

/** encodeConfChangeV2 serializes a ConfChangeV2 as raftpb does. */
export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  const w = new Writer();
  w.tag(1, 0);
  w.varint(BigInt(cc.transition));
  for (const c of cc.changes) {
    const s = new Writer();
    s.tag(1, 0);
    s.varint(BigInt(c.type));
    s.tag(2, 0);
    s.varint(c.nodeId);
    w.bytesField(2, s.finish());
  }
  if (cc.context.byteLength > 0) w.bytesField(3, cc.context);
  return w.finish();
}

/** decodeConfChangeV2 parses a ConfChangeV2. */
export function decodeConfChangeV2(data: Uint8Array): ConfChangeV2 {
  const cc: ConfChangeV2 = { transition: 0, changes: [], context: new Uint8Array(0) };
  const r = new Reader(data);
  r.fields((field, wire) => {
    if (field === 1 && wire === 0) cc.transition = Number(r.varint()) as ConfChangeTransition;
    else if (field === 2 && wire === 2) {
      const single: ConfChangeSingle = { type: 0, nodeId: 0n };
      const sr = new Reader(r.bytes());
      sr.fields((f2, w2) => {
        if (f2 === 1 && w2 === 0) single.type = Number(sr.varint()) as ConfChangeType;
        else if (f2 === 2 && w2 === 0) single.nodeId = sr.varint();
        else sr.skip(w2);
      });
      cc.changes.push(single);
    } else if (field === 3 && wire === 2) cc.context = r.bytes();
    else r.skip(wire);
  });
  return cc;
}
