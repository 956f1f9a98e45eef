import { describe, expect, it } from "vitest";
import { decodeConfChangeV2 } from "./confchange/codec.js";
import { AssertionError, ProposalDroppedError, StepLocalMsgError, StepPeerNotFoundError } from "./errors.js";
import { RawNode } from "./raw-node.js";
import type { Ready } from "./ready.js";
import { isEmptyReady, messagesBeforePersist } from "./ready.js";
import { MemoryStorage } from "./storage.js";
import { confStateOf } from "./testing/network.js";
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  newMessage,
  StateType,
} from "./types.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

function node(storage = new MemoryStorage(confStateOf([1n])), applied = 0, id = 1n): RawNode {
  return new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage, applied, random: () => 0 });
}

/** Handles one Ready the way the README says: persist, (send), apply, advance. */
function handle(n: RawNode, st: MemoryStorage): Ready {
  const rd = n.ready();
  if (rd.snapshot) st.applySnapshot(rd.snapshot);
  st.append(rd.entries);
  if (rd.hardState) st.setHardState(rd.hardState);
  for (const e of rd.committedEntries) {
    if (e.type === EntryType.ConfChangeV2) n.applyConfChange(decodeConfChangeV2(e.data));
  }
  n.advance();
  return rd;
}

describe("RawNode", () => {
  it("a single node campaigns, becomes leader, and commits its proposals through Ready", () => {
    const st = new MemoryStorage(confStateOf([1n]));
    const n = node(st);
    n.campaign();
    const rd1 = handle(n, st);
    expect(rd1.softState).toEqual({ lead: 1n, raftState: StateType.Leader });
    expect(rd1.hardState).toEqual({ term: 1, vote: 1n, commit: 1 });
    expect(rd1.entries.map((e) => e.index)).toEqual([1]);
    expect(rd1.committedEntries.map((e) => e.index)).toEqual([1]);
    expect(rd1.mustSync).toBe(true);
    expect(n.hasReady()).toBe(false);

    n.propose(enc.encode("hello"));
    expect(n.hasReady()).toBe(true);
    const rd2 = handle(n, st);
    expect(rd2.softState).toBeUndefined();
    expect(rd2.entries.map((e) => dec.decode(e.data))).toEqual(["hello"]);
    expect(rd2.committedEntries.map((e) => dec.decode(e.data))).toEqual(["hello"]);
    expect(rd2.hardState).toEqual({ term: 1, vote: 1n, commit: 2 });
    expect(n.status().applied).toBe(2);
  });

  it("messagesBeforePersist: a leader's appends, never in the Ready that changes its term or commits its entries", () => {
    // One voter and a learner: the voter wins its term in the same Ready that sends the learner appends.
    const st = new MemoryStorage(confStateOf([1n], [2n]));
    const n = node(st);
    n.campaign();
    n.tick(); // a heartbeat to the learner, in the same Ready as the new term
    let rd = n.ready();
    expect(rd.softState?.raftState).toBe(StateType.Leader);
    expect(rd.messages.some((m) => m.type === MessageType.MsgHeartbeat && m.to === 2n)).toBe(true);
    expect(rd.hardState?.term).toBe(1);
    // The term is not on disk yet: a crash could forget it, so nothing goes out before the write.
    expect(messagesBeforePersist(rd, n.raft.state, st.savedHardState())).toEqual([]);
    st.append(rd.entries);
    if (rd.hardState) st.setHardState(rd.hardState);
    n.advance();
    // Same term, new entry: a single voter commits it at once, before writing it. The learner's append
    // carries that commit index, so it waits for the write (a crash could erase an entry it applied).
    n.propose(enc.encode("x"));
    rd = n.ready();
    const appendToLearner = rd.messages.find((m) => m.type === MessageType.MsgApp && m.to === 2n);
    expect(appendToLearner?.commit).toBe(rd.entries[0]?.index);
    expect(messagesBeforePersist(rd, n.raft.state, st.savedHardState())).toEqual([]);
    st.append(rd.entries);
    n.advance();

    // Three voters: the new leader's appends commit nothing yet, so they go out before its write.
    const st3 = new MemoryStorage(confStateOf([1n, 2n, 3n]));
    const l = node(st3);
    l.campaign();
    rd = l.ready();
    st3.append(rd.entries);
    if (rd.hardState) st3.setHardState(rd.hardState);
    l.advance();
    l.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: rd.hardState?.term ?? 0 }));
    rd = l.ready();
    expect(l.raft.state).toBe(StateType.Leader);
    const early = messagesBeforePersist(rd, l.raft.state, st3.savedHardState());
    expect(early.map((m) => [m.type, m.to])).toEqual([
      [MessageType.MsgApp, 2n],
      [MessageType.MsgApp, 3n],
    ]);
    expect(early.every((m) => m.commit < (rd.entries[0]?.index ?? 0))).toBe(true);

    // A follower's acknowledgement promises its disk: it always waits.
    const f = node(new MemoryStorage(confStateOf([1n, 2n])), 0, 2n);
    f.step(
      newMessage({
        type: MessageType.MsgApp,
        from: 1n,
        to: 2n,
        term: 1,
        logTerm: 0,
        index: 0,
        entries: [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array() }],
      }),
    );
    rd = f.ready();
    expect(rd.messages.map((m) => m.type)).toContain(MessageType.MsgAppResp);
    expect(messagesBeforePersist(rd, f.raft.state, { term: 0, vote: 0n })).toEqual([]);
  });

  it("ready() twice without advance() is a programming error", () => {
    const n = node();
    n.campaign();
    n.ready();
    expect(() => n.ready()).toThrow(AssertionError);
    n.advance();
    expect(() => n.advance()).toThrow(AssertionError);
  });

  it("a Ready with nothing to do is empty and hasReady is false", () => {
    const n = node();
    expect(n.hasReady()).toBe(false);
    expect(isEmptyReady(n.ready())).toBe(true);
  });

  it("restarts from storage: the hard state and log survive, applied entries are not handed out again", () => {
    const st = new MemoryStorage(confStateOf([1n]));
    const n = node(st);
    n.campaign();
    handle(n, st);
    n.propose(enc.encode("a"));
    handle(n, st);
    const restarted = node(st, 2);
    expect(restarted.status().hardState).toEqual({ term: 1, vote: 1n, commit: 2 });
    expect(restarted.hasReady()).toBe(false);
    // A restart that applied less gets the remaining committed entries again.
    const behind = node(st, 1);
    expect(behind.ready().committedEntries.map((e) => dec.decode(e.data))).toEqual(["a"]);
  });

  it("refuses local message types and responses from unknown peers", () => {
    const n = node();
    expect(() => n.step(newMessage({ type: MessageType.MsgHup }))).toThrow(StepLocalMsgError);
    expect(() => n.step(newMessage({ type: MessageType.MsgAppResp, from: 9n, term: 1 }))).toThrow(
      StepPeerNotFoundError,
    );
    expect(() => n.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 9n, term: 1 }))).toThrow(
      "raft: cannot step as peer not found",
    );
  });

  it("propose without a leader throws ProposalDroppedError", () => {
    const n = new RawNode({
      id: 1n,
      electionTick: 10,
      heartbeatTick: 1,
      storage: new MemoryStorage(confStateOf([1n, 2n])),
      random: () => 0,
    });
    expect(() => n.propose(enc.encode("x"))).toThrow(ProposalDroppedError);
  });

  it("proposeConfChange + applyConfChange change the membership; the ConfState is returned", () => {
    const st = new MemoryStorage(confStateOf([1n]));
    const n = node(st);
    n.campaign();
    handle(n, st);
    n.proposeConfChange({
      id: 1n,
      type: ConfChangeType.AddLearnerNode,
      nodeId: 2n,
      context: new Uint8Array(),
    });
    const rd = n.ready();
    st.append(rd.entries);
    if (rd.hardState) st.setHardState(rd.hardState);
    const cc = rd.committedEntries.find((e) => e.type === EntryType.ConfChange);
    expect(cc).toBeDefined();
    const cs = n.applyConfChange({
      id: 1n,
      type: ConfChangeType.AddLearnerNode,
      nodeId: 2n,
      context: new Uint8Array(),
    });
    n.advance();
    expect(cs.learners).toEqual([2n]);
    expect(n.status().config.learners).toEqual([2n]);
    // The leader now replicates to the learner.
    expect(n.hasReady()).toBe(true);
    expect(n.ready().messages.some((m) => m.to === 2n && m.type === MessageType.MsgApp)).toBe(true);
    n.advance();
  });

  it("joint consensus with auto-leave: the leader proposes leaving once the change is applied", () => {
    const st = new MemoryStorage(confStateOf([1n]));
    const n = node(st);
    n.campaign();
    handle(n, st);
    n.proposeConfChange({
      transition: ConfChangeTransition.JointImplicit,
      changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 2n }],
      context: new Uint8Array(),
    });
    handle(n, st);
    expect(n.status().config.votersOutgoing).toEqual([1n]);
    // The auto-leave entry is appended on advance and applied in the next Ready.
    handle(n, st);
    expect(n.status().config.votersOutgoing).toEqual([]);
    expect(n.status().config.learners).toEqual([2n]);
  });

  it("readIndex on a single node answers at once with the commit index", () => {
    const st = new MemoryStorage(confStateOf([1n]));
    const n = node(st);
    n.campaign();
    handle(n, st);
    n.readIndex(enc.encode("r1"));
    const rd = handle(n, st);
    expect(rd.readStates).toEqual([{ index: 1, requestCtx: enc.encode("r1") }]);
  });

  it("status reports progress on the leader", () => {
    const st = new MemoryStorage(confStateOf([1n]));
    const n = node(st);
    n.campaign();
    handle(n, st);
    const s = n.status();
    expect(s.softState.raftState).toBe(StateType.Leader);
    expect(s.progress.get(1n)?.match).toBe(1);
  });

  it("mustSync is false when only the commit index changed", () => {
    const st = new MemoryStorage(confStateOf([1n, 2n]));
    const n = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage: st, random: () => 0 });
    n.campaign();
    handle(n, st);
    n.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1 }));
    const rd = handle(n, st);
    expect(rd.entries).toHaveLength(1);
    expect(rd.mustSync).toBe(true);
    n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
    const rd2 = n.ready();
    expect(rd2.hardState?.commit).toBe(1);
    expect(rd2.entries).toHaveLength(0);
    expect(rd2.mustSync).toBe(false);
    n.advance();
  });

  it("maxCommittedSizePerReady pages committed entries over several Readys", () => {
    const st = new MemoryStorage(confStateOf([1n]));
    const n = new RawNode({
      id: 1n,
      electionTick: 10,
      heartbeatTick: 1,
      storage: st,
      maxCommittedSizePerReady: 1,
      random: () => 0,
    });
    n.campaign();
    handle(n, st);
    for (let i = 0; i < 3; i++) n.propose(enc.encode(`e${i}`));
    const seen: string[] = [];
    for (let i = 0; i < 10 && n.hasReady(); i++) {
      const rd = handle(n, st);
      expect(rd.committedEntries.length).toBeLessThanOrEqual(1);
      for (const e of rd.committedEntries) seen.push(dec.decode(e.data));
    }
    expect(seen).toEqual(["e0", "e1", "e2"]);
  });

  it("restarts after a crash between persisting a snapshot and its hard state (commit below the snapshot)", () => {
    const st = new MemoryStorage();
    st.applySnapshot({
      data: new Uint8Array(),
      metadata: { index: 12, term: 2, confState: confStateOf([1n]) },
    });
    st.setHardState({ term: 1, vote: 0n, commit: 1 });
    const n = node(st, 12);
    expect(n.status().hardState.commit).toBe(12);
    n.campaign();
    expect(handle(n, st).hardState).toEqual({ term: 2, vote: 1n, commit: 13 });
  });

  it("may be ticked and stepped between ready() and advance() without handing out entries twice", () => {
    const st = new MemoryStorage(confStateOf([1n]));
    const n = node(st);
    n.campaign();
    handle(n, st);
    n.propose(enc.encode("a"));
    const rd = n.ready();
    expect(rd.committedEntries.map((e) => dec.decode(e.data))).toEqual(["a"]);
    // Meanwhile: a tick and another proposal.
    n.tick();
    n.propose(enc.encode("b"));
    st.append(rd.entries);
    if (rd.hardState) st.setHardState(rd.hardState);
    n.advance();
    const rd2 = n.ready();
    expect(rd2.entries.map((e) => dec.decode(e.data))).toEqual(["b"]);
    expect(rd2.committedEntries.map((e) => dec.decode(e.data))).toEqual(["b"]);
    n.advance();
  });
});
