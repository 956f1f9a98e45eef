import { afterEach, describe, expect, it, vi } from "vitest";
import { AppliedIndex } from "./applied-index.js";
import { READ_INDEX_RETRY_MS, ReadIndexBatcher } from "./read-index.js";

const REQUEST_TIMEOUT_MS = 60_000;

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
      leaderChangedError: () => new Error("etcdserver: leader changed"),
    },
    REQUEST_TIMEOUT_MS,
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
        leaderChangedError: () => new Error("etcdserver: leader changed"),
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

  describe("across leader changes (fake timers)", () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    const hex = (c: Uint8Array | undefined) => Buffer.from(c ?? []).toString("hex");

    it("resends an unanswered request every retry interval, with the same context, until raft answers", async () => {
      vi.useFakeTimers();
      const { requests, applied, batcher } = setup();
      // The leader the request went to died (or there was none and raft dropped it): no answer comes.
      const read = batcher.read();
      expect(requests).toHaveLength(1);
      vi.advanceTimersByTime(READ_INDEX_RETRY_MS - 1);
      expect(requests).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(requests).toHaveLength(2);
      vi.advanceTimersByTime(READ_INDEX_RETRY_MS);
      expect(requests).toHaveLength(3);
      expect(new Set(requests.map(hex)).size).toBe(1);
      // The answer to any of the copies releases the read; late copies' answers are ignored.
      batcher.onReadIndex(requests[1] as Uint8Array, 4);
      batcher.onReadIndex(requests[2] as Uint8Array, 9);
      applied.advance(4);
      await read;
      vi.advanceTimersByTime(10 * READ_INDEX_RETRY_MS);
      expect(requests).toHaveLength(3);
    });

    it("fails the reads in flight with 'leader changed' on a new leader, and asks afresh for the reads behind them", async () => {
      vi.useFakeTimers();
      const { requests, applied, batcher } = setup();
      const inflight = batcher.read();
      const behind = batcher.read();
      expect(requests).toHaveLength(1);
      batcher.onLeaderChange();
      await expect(inflight).rejects.toThrow("etcdserver: leader changed");
      expect(requests).toHaveLength(2);
      expect(hex(requests[1])).not.toBe(hex(requests[0]));
      // The old leader's answer to the failed request does not release the new one's reads.
      batcher.onReadIndex(requests[0] as Uint8Array, 1);
      batcher.onReadIndex(requests[1] as Uint8Array, 2);
      applied.advance(2);
      await behind;
      // Nothing in flight: a leader change fails nothing.
      batcher.onLeaderChange();
      expect(requests).toHaveLength(2);
    });

    it("still fails a request at the request timeout, however often it was resent, and stops resending", async () => {
      vi.useFakeTimers();
      const { requests, batcher } = setup();
      const read = batcher.read();
      const failed = expect(read).rejects.toThrow("etcdserver: request timed out");
      vi.advanceTimersByTime(REQUEST_TIMEOUT_MS);
      await failed;
      const sent = requests.length;
      expect(sent).toBe(Math.ceil(REQUEST_TIMEOUT_MS / READ_INDEX_RETRY_MS));
      vi.advanceTimersByTime(10 * READ_INDEX_RETRY_MS);
      expect(requests).toHaveLength(sent);
    });

    it("fails the reads of a request raft throws on, without blocking the reads after it", async () => {
      vi.useFakeTimers();
      let broken = true;
      const requests: Uint8Array[] = [];
      let contextId = 0n;
      const batcher = new ReadIndexBatcher(
        {
          requestReadIndex: (context) => {
            if (broken) throw new Error("raft: stopped");
            requests.push(context);
          },
          nextContextId: () => ++contextId,
          waitApplied: async () => {},
          timeoutError: () => new Error("etcdserver: request timed out"),
          leaderChangedError: () => new Error("etcdserver: leader changed"),
        },
        REQUEST_TIMEOUT_MS,
        100,
      );
      await expect(batcher.read()).rejects.toThrow("raft: stopped");
      broken = false;
      const next = batcher.read();
      expect(requests).toHaveLength(1);
      batcher.onReadIndex(requests[0] as Uint8Array, 1);
      await next;
    });
  });
});
