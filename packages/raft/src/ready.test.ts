import { describe, expect, it } from "vitest";
import { coalesceMessages } from "./ready.js";
import { type Entry, type Message, MessageType, newMessage } from "./types.js";

const entry = (index: number, term: number, bytes = 10): Entry =>
  ({ index, term, type: 0, data: new Uint8Array(bytes) }) as Entry;

const app = (
  to: bigint,
  index: number,
  logTerm: number,
  entries: Entry[],
  commit: number,
  term = 2,
): Message => newMessage({ type: MessageType.MsgApp, to, from: 1n, term, index, logTerm, entries, commit });

const ack = (to: bigint, index: number, term = 2): Message =>
  newMessage({ type: MessageType.MsgAppResp, to, from: 2n, term, index });

const shape = (ms: Message[]) =>
  ms.map((m) => ({
    type: m.type,
    to: m.to,
    index: m.index,
    logTerm: m.logTerm,
    entries: m.entries.map((e) => e.index),
    commit: m.commit,
    reject: m.reject,
  }));

describe("coalesceMessages", () => {
  it("joins consecutive appends to one follower, keeping the later commit", () => {
    const out = coalesceMessages(
      [
        app(2n, 5, 2, [entry(6, 2)], 5),
        app(3n, 5, 2, [entry(6, 2)], 5),
        app(2n, 6, 2, [entry(7, 2), entry(8, 2)], 5),
        app(2n, 8, 2, [], 7), // commit-only
        app(3n, 6, 2, [entry(7, 2)], 6),
      ],
      1 << 20,
    );
    expect(shape(out)).toEqual([
      {
        type: MessageType.MsgApp,
        to: 2n,
        index: 5,
        logTerm: 2,
        entries: [6, 7, 8],
        commit: 7,
        reject: false,
      },
      { type: MessageType.MsgApp, to: 3n, index: 5, logTerm: 2, entries: [6, 7], commit: 6, reject: false },
    ]);
  });

  it("does not join appends that do not continue each other, or of another term", () => {
    const gap = [app(2n, 5, 2, [entry(6, 2)], 5), app(2n, 7, 2, [entry(8, 2)], 5)];
    expect(coalesceMessages(gap, 1 << 20)).toHaveLength(2);
    const wrongTerm = [app(2n, 5, 2, [entry(6, 3)], 5), app(2n, 6, 2, [entry(7, 3)], 5)];
    expect(coalesceMessages(wrongTerm, 1 << 20)).toHaveLength(2);
    const newerTerm = [app(2n, 5, 2, [entry(6, 2)], 5), app(2n, 6, 2, [entry(7, 3)], 5, 3)];
    expect(coalesceMessages(newerTerm, 1 << 20)).toHaveLength(2);
  });

  it("stops joining at the size limit, and never across another message to the same node", () => {
    const big = [
      app(2n, 5, 2, [entry(6, 2, 600)], 5),
      app(2n, 6, 2, [entry(7, 2, 600)], 5),
      app(2n, 7, 2, [], 6),
    ];
    // 600 + 600 exceeds 1000: two messages, the commit-only one joins the second.
    expect(shape(coalesceMessages(big, 1000)).map((m) => [m.entries, m.commit])).toEqual([
      [[6], 5],
      [[7], 6],
    ]);
    // Limit 0 is raft's "one entry per message": no entries join, a commit-only append still does.
    expect(shape(coalesceMessages(big, 0)).map((m) => [m.entries, m.commit])).toEqual([
      [[6], 5],
      [[7], 6],
    ]);
    const heartbeat = newMessage({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 2, commit: 5 });
    const split = [app(2n, 5, 2, [entry(6, 2)], 5), heartbeat, app(2n, 6, 2, [entry(7, 2)], 5)];
    expect(coalesceMessages(split, 1 << 20)).toEqual(split);
  });

  it("keeps only the last of consecutive acknowledgements, and every rejection", () => {
    const reject = newMessage({
      type: MessageType.MsgAppResp,
      to: 1n,
      from: 2n,
      term: 2,
      index: 9,
      reject: true,
      rejectHint: 7,
    });
    const out = coalesceMessages([ack(1n, 6), ack(1n, 8), reject, ack(1n, 9), ack(1n, 10)], 1 << 20);
    expect(shape(out).map((m) => [m.index, m.reject])).toEqual([
      [8, false],
      [9, true],
      [10, false],
    ]);
    // An acknowledgement of a lower index than the one before it is kept as it is.
    expect(coalesceMessages([ack(1n, 8), ack(1n, 6)], 1 << 20)).toHaveLength(2);
  });

  it("passes other messages through in order and does not touch its input", () => {
    const input = [
      newMessage({ type: MessageType.MsgVote, to: 2n, from: 1n, term: 3, index: 4, logTerm: 2 }),
      app(3n, 5, 2, [entry(6, 2)], 5),
      app(3n, 6, 2, [entry(7, 2)], 6),
    ];
    const before = shape(input);
    const out = coalesceMessages(input, 1 << 20);
    expect(out[0]).toBe(input[0]);
    expect(out).toHaveLength(2);
    expect(shape(input)).toEqual(before);
  });
});
