import { describe, expect, it } from "vitest";
import { AppliedIndex } from "./applied-index.js";
import { ReadIndexBatcher } from "./read-index.js";

function setup() {
  const requests: Uint8Array[] = [];
  const applied = new AppliedIndex(0);
  let contextId = 0n;
  const batcher = new ReadIndexBatcher(
    {
      requestReadIndex: (context) => requests.push(context),
      nextContextId: () => ++contextId,
      waitApplied: (index) => applied.wait(index),
      timeoutError: () => new Error("etcdserver: request timed out"),
    },
    60_000,
    100,
  );
  return { requests, applied, batcher };
}

describe("ReadIndexBatcher", () => {
  it("shares one read index among the reads that arrived before it was asked", async () => {
    const { requests, applied, batcher } = setup();
    const a = batcher.read();
    expect(requests).toHaveLength(1);
    // Arrives while the first request is in flight: must wait for the NEXT one.
    let bDone = false;
    const b = batcher.read().then(() => {
      bDone = true;
    });
    const c = batcher.read();
    expect(requests).toHaveLength(1);
    batcher.onReadIndex(requests[0] as Uint8Array, 5);
    expect(requests).toHaveLength(2);
    applied.advance(5);
    await a;
    expect(bDone).toBe(false);
    batcher.onReadIndex(requests[1] as Uint8Array, 6);
    applied.advance(6);
    await b;
    await c;
    expect(bDone).toBe(true);
  });

  it("waits for the applied index to reach the read index", async () => {
    const { requests, applied, batcher } = setup();
    let done = false;
    const read = batcher.read().then(() => {
      done = true;
    });
    batcher.onReadIndex(requests[0] as Uint8Array, 3);
    applied.advance(2);
    await Promise.resolve();
    expect(done).toBe(false);
    applied.advance(3);
    await read;
    expect(done).toBe(true);
  });

  it("ignores an answer to a request it no longer waits for, and fails all on stop", async () => {
    const { batcher } = setup();
    const read = batcher.read();
    batcher.onReadIndex(new Uint8Array([9, 9]), 1);
    batcher.failAll(new Error("etcdserver: server stopped"));
    await expect(read).rejects.toThrow("server stopped");
  });

  it("tags each request with the id the server hands out, not a per-member sequence", () => {
    // Two members counting from 1 would send the leader the same contexts, and it keeps only one of them.
    const ids = [0x1234_0000_0000_0101n, 0x1234_0000_0000_0102n];
    const requests: Uint8Array[] = [];
    const batcher = new ReadIndexBatcher(
      {
        requestReadIndex: (context) => requests.push(context),
        nextContextId: () => ids.shift() ?? 0n,
        waitApplied: async () => {},
        timeoutError: () => new Error("etcdserver: request timed out"),
      },
      60_000,
      100,
    );
    void batcher.read();
    void batcher.read();
    batcher.onReadIndex(requests[0] as Uint8Array, 1);
    expect(requests.map((c) => Buffer.from(c).toString("hex"))).toEqual([
      "1234000000000101",
      "1234000000000102",
    ]);
  });
});
