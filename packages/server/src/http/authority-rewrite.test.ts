import { describe, expect, it } from "vitest";
import { AuthorityRewriter, rewriteHeaderBlock } from "./authority-rewrite.js";

const lit = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, "latin1")]);

describe("rewriteHeaderBlock", () => {
  it("replaces a literal :authority and leaves every other field byte for byte", () => {
    const block = Buffer.concat([
      Buffer.from([0x83]), // indexed: :method POST
      Buffer.from([0x86]), // indexed: :scheme http
      Buffer.from([0x44]), // literal with indexing, name :path (static 4)
      lit("/etcdserverpb.KV/Range"),
      Buffer.from([0x41]), // literal with indexing, name :authority (static 1)
      lit("http://127.0.0.1:2379"),
      Buffer.from([0x3f, 0xe1, 0x1f]), // dynamic table size update to 4096 (5-bit prefix, multi-byte)
      Buffer.from([0x40]), // literal with indexing, new name
      lit("te"),
      lit("trailers"),
      Buffer.from([0x01]), // literal without indexing, :authority again
      lit("http://other:1"),
    ]);
    const expected = Buffer.concat([
      Buffer.from([0x83, 0x86, 0x44]),
      lit("/etcdserverpb.KV/Range"),
      Buffer.from([0x41]),
      lit("localhost"),
      Buffer.from([0x3f, 0xe1, 0x1f, 0x40]),
      lit("te"),
      lit("trailers"),
      Buffer.from([0x01]),
      lit("localhost"),
    ]);
    expect(rewriteHeaderBlock(block).toString("hex")).toBe(expected.toString("hex"));
  });

  it("throws on a truncated block (the frame is then passed on untouched)", () => {
    expect(() => rewriteHeaderBlock(Buffer.from([0x41, 0x10, 0x61]))).toThrow(/truncated/);
  });
});

describe("AuthorityRewriter", () => {
  it("passes the preface and other frames through, and rewrites HEADERS split across chunks", () => {
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
    const settings = Buffer.from([0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
    const block = Buffer.concat([Buffer.from([0x41]), lit("http://h:1")]);
    const headers = Buffer.concat([Buffer.from([0, 0, block.length, 0x1, 0x4 | 0x1, 0, 0, 0, 1]), block]);
    const data = Buffer.from([0, 0, 2, 0x0, 0x1, 0, 0, 0, 1, 0xaa, 0xbb]);
    const input = Buffer.concat([preface, settings, headers, data]);
    const rewriter = new AuthorityRewriter();
    const out: Buffer[] = [];
    for (let i = 0; i < input.length; i += 5) out.push(rewriter.push(input.subarray(i, i + 5)));
    const newBlock = Buffer.concat([Buffer.from([0x41]), lit("localhost")]);
    const expected = Buffer.concat([
      preface,
      settings,
      Buffer.from([0, 0, newBlock.length, 0x1, 0x5, 0, 0, 0, 1]),
      newBlock,
      data,
    ]);
    expect(Buffer.concat(out).toString("hex")).toBe(expected.toString("hex"));
  });
});
