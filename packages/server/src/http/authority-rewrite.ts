import type net from "node:net";
import { Duplex } from "node:stream";
import { assert } from "../assert.js";

/** HTTP/2 frame types and flags used here (RFC 9113 §6). */
const frameHeaders = 0x1;
const flagEndHeaders = 0x4;
const flagPadded = 0x8;
const flagPriority = 0x20;
/** A HEADERS frame larger than this is passed through untouched (no unbounded buffering). */
const maxRewrittenFrameBytes = 256 * 1024;
/** The :authority every rewritten request gets: a valid one that the server does not use. */
const replacementAuthority = Buffer.from("localhost", "latin1");
const prefaceBytes = 24;

/** readInt decodes an HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function readInt(buf: Buffer, pos: number, prefixBits: number): { value: number; next: number } {
  const mask = (1 << prefixBits) - 1;
  let value = (buf[pos] as number) & mask;
  let next = pos + 1;
  if (value < mask) return { value, next };
  let shift = 0;
  for (;;) {
    if (next >= buf.length || shift > 28) throw new Error("truncated HPACK integer");
    const b = buf[next++] as number;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value, next };
  }
}

/** skipString returns the offset after an HPACK string literal starting at `pos`. */
function skipString(buf: Buffer, pos: number): number {
  const { value: length, next } = readInt(buf, pos, 7);
  if (next + length > buf.length) throw new Error("truncated HPACK string");
  return next + length;
}

/**
 * rewriteHeaderBlock replaces the value of every literal `:authority` field (static name index 1) with
 * "localhost", leaving every other field byte for byte. Indexed references keep working: the decoder
 * stores the rewritten value under the same dynamic-table position the encoder used.
 */
export function rewriteHeaderBlock(block: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < block.length) {
    const b = block[pos] as number;
    if ((b & 0x80) !== 0) {
      const { next } = readInt(block, pos, 7); // indexed field
      out.push(block.subarray(pos, next));
      pos = next;
      continue;
    }
    if ((b & 0xe0) === 0x20) {
      const { next } = readInt(block, pos, 5); // dynamic table size update
      out.push(block.subarray(pos, next));
      pos = next;
      continue;
    }
    const prefixBits = (b & 0xc0) === 0x40 ? 6 : 4; // literal with / without / never indexing
    const { value: nameIndex, next: afterIndex } = readInt(block, pos, prefixBits);
    const nameEnd = nameIndex === 0 ? skipString(block, afterIndex) : afterIndex;
    const valueEnd = skipString(block, nameEnd);
    out.push(block.subarray(pos, nameEnd));
    if (nameIndex === 1) out.push(Buffer.from([replacementAuthority.length]), replacementAuthority);
    else out.push(block.subarray(nameEnd, valueEnd));
    pos = valueEnd;
  }
  return Buffer.concat(out);
}

/**
 * AuthorityRewriter rewrites the client-to-server bytes of an h2c connection so that the `:authority` of
 * every request is a valid one. etcdctl 3.4 sends `http://host:port` as :authority when it dials the
 * members it discovered (`--cluster`); Go's HTTP/2 accepts that, Node's (nghttp2) resets the stream, and
 * Node has no switch to relax the check. Frames other than complete HEADERS frames pass through as they are.
 */
export class AuthorityRewriter {
  #pending = Buffer.alloc(0);
  #prefaceLeft = prefaceBytes;
  /** Payload bytes of the current frame still to pass through untouched. */
  #passThrough = 0;

  /** push takes bytes from the client and returns the bytes to hand to the HTTP/2 server. */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    if (this.#prefaceLeft > 0) {
      const n = Math.min(this.#prefaceLeft, data.length);
      out.push(data.subarray(0, n));
      data = data.subarray(n);
      this.#prefaceLeft -= n;
    }
    while (data.length > 0) {
      if (this.#passThrough > 0) {
        const n = Math.min(this.#passThrough, data.length);
        out.push(data.subarray(0, n));
        data = data.subarray(n);
        this.#passThrough -= n;
        continue;
      }
      if (data.length < 9) break;
      const length = data.readUIntBE(0, 3);
      const type = data[3] as number;
      const flags = data[4] as number;
      const rewrite =
        type === frameHeaders && (flags & flagEndHeaders) !== 0 && length <= maxRewrittenFrameBytes;
      if (!rewrite) {
        out.push(data.subarray(0, 9));
        data = data.subarray(9);
        this.#passThrough = length;
        continue;
      }
      if (data.length < 9 + length) break; // wait for the whole HEADERS frame
      out.push(rewriteHeadersFrame(data.subarray(0, 9 + length)));
      data = data.subarray(9 + length);
    }
    if (data.length > 0) this.#pending = Buffer.from(data);
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}

function rewriteHeadersFrame(frame: Buffer): Buffer {
  const flags = frame[4] as number;
  let payload = frame.subarray(9);
  let padLength = 0;
  if ((flags & flagPadded) !== 0) {
    padLength = payload[0] as number;
    payload = payload.subarray(1);
  }
  const priorityBytes = (flags & flagPriority) !== 0 ? 5 : 0;
  if (padLength + priorityBytes > payload.length) return frame; // malformed: let the server reject it
  const priority = payload.subarray(0, priorityBytes);
  const block = payload.subarray(priorityBytes, payload.length - padLength);
  let rewritten: Buffer;
  try {
    rewritten = rewriteHeaderBlock(block);
  } catch {
    return frame; // not valid HPACK: let the server's decoder say so
  }
  const body = Buffer.concat([priority, rewritten]);
  const header = Buffer.from(frame.subarray(0, 9));
  header.writeUIntBE(body.length, 0, 3);
  header[4] = flags & ~flagPadded; // padding dropped
  return Buffer.concat([header, body]);
}

/** rewritingSocket wraps a client socket in a Duplex whose readable side is rewritten by AuthorityRewriter. */
export function rewritingSocket(socket: net.Socket, head: Buffer): Duplex {
  const rewriter = new AuthorityRewriter();
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    // nghttp2 hands a whole batch of frames to one write request; Node's JS stream glue writes them one by
    // one into a corked Duplex. Taking them back as one corked batch lets the socket send them with ONE
    // writev system call instead of one write per frame (the cost a profile showed).
    writev(chunks: Array<{ chunk: Buffer }>, callback) {
      assert(chunks.length > 0, "writev of no chunks");
      socket.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) socket.write((chunks[i] as { chunk: Buffer }).chunk);
      socket.write((chunks[last] as { chunk: Buffer }).chunk, callback);
      socket.uncork();
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  const feed = (chunk: Buffer) => {
    const out = rewriter.push(chunk);
    if (out.length > 0 && !duplex.push(out)) socket.pause();
  };
  socket.on("data", feed);
  socket.on("end", () => duplex.push(null));
  socket.on("close", () => duplex.destroy());
  socket.on("error", (err) => duplex.destroy(err));
  // Properties the HTTP/2 server reads from its socket.
  Object.assign(duplex, {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    setTimeout: (ms: number, cb?: () => void) => socket.setTimeout(ms, cb),
    setNoDelay: (noDelay?: boolean) => socket.setNoDelay(noDelay),
    setKeepAlive: (enable?: boolean, delay?: number) => socket.setKeepAlive(enable, delay),
  });
  if (head.length > 0) feed(head);
  return duplex;
}
