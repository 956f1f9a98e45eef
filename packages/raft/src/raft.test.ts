import { describe, expect, it } from "vitest";
import { encodeConfChangeV2 } from "./confchange/codec.js";
import { ProposalDroppedError } from "./errors.js";
import type { Raft } from "./raft.js";
import { MAX_PENDING_READ_INDEX_REQUESTS } from "./read-only.js";
import { MemoryStorage } from "./storage.js";
import { confStateOf, Network, newTestRaft, readMessages } from "./testing/network.js";
import { ProgressState } from "./tracker/progress.js";
import type { ConfChangeV2 } from "./types.js";
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  newEntry,
  newMessage,
  ReadOnlyOption,
  StateType,
} from "./types.js";

const enc = new TextEncoder();
const ids3 = [1n, 2n, 3n];
const hup = (id: bigint) => newMessage({ type: MessageType.MsgHup, from: id, to: id });
const prop = (id: bigint, data = "x") =>
  newMessage({
    type: MessageType.MsgProp,
    from: id,
    to: id,
    entries: [newEntry({ data: enc.encode(data) })],
  });
const peer = (net: Network, id: bigint): Raft => net.peers.get(id)!;

describe("PreVote", () => {
  it("a partitioned node does not bump its term, so it cannot disrupt the cluster when it rejoins", () => {
    const net = new Network(ids3, () => ({ preVote: true }));
    net.send(hup(1n));
    expect(peer(net, 1n).state).toBe(StateType.Leader);
    net.isolate(3n);
    for (let i = 0; i < 5; i++) net.send(hup(3n));
    expect(peer(net, 3n).state).toBe(StateType.PreCandidate);
    expect(peer(net, 3n).term).toBe(1);
    net.recover();
    net.send(newMessage({ type: MessageType.MsgBeat, from: 1n, to: 1n }));
    expect(peer(net, 1n).state).toBe(StateType.Leader);
    expect(peer(net, 3n).state).toBe(StateType.Follower);
    expect(peer(net, 1n).term).toBe(1);
  });

  it("without PreVote the rejoining node forces a new election with a higher term", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.isolate(3n);
    for (let i = 0; i < 5; i++) net.send(hup(3n));
    expect(peer(net, 3n).term).toBe(6);
    net.recover();
    net.send(hup(3n));
    // The leader is deposed by the higher term.
    expect(peer(net, 1n).term).toBeGreaterThan(6);
  });

  it("a pre-candidate that wins the pre-vote campaigns for real", () => {
    const net = new Network(ids3, () => ({ preVote: true }));
    net.send(hup(1n));
    expect(peer(net, 1n).state).toBe(StateType.Leader);
    expect(peer(net, 1n).term).toBe(1);
    expect(net.delivered.some((m) => m.type === MessageType.MsgPreVote)).toBe(true);
  });
});

describe("CheckQuorum", () => {
  it("a leader that does not hear from a quorum for an election timeout steps down", () => {
    const net = new Network(ids3, () => ({ checkQuorum: true }));
    net.send(hup(1n));
    const l = peer(net, 1n);
    expect(l.state).toBe(StateType.Leader);
    for (let i = 0; i < 2 * l.electionTimeout + 1; i++) l.tick();
    readMessages(l);
    expect(l.state).toBe(StateType.Follower);
  });

  it("a leader in contact with a quorum stays leader", () => {
    const net = new Network(ids3, () => ({ checkQuorum: true }));
    net.send(hup(1n));
    const l = peer(net, 1n);
    for (let i = 0; i < 3 * l.electionTimeout; i++) {
      l.tick();
      net.send(...readMessages(l));
    }
    expect(l.state).toBe(StateType.Leader);
  });

  it("a stale leader learns the new term from its followers' answers", () => {
    const net = new Network(ids3, () => ({ checkQuorum: true }));
    net.send(hup(1n));
    net.isolate(1n);
    for (const id of [2n, 3n]) {
      const r = peer(net, id);
      for (let i = 0; i < 2 * r.electionTimeout; i++) r.tick();
      readMessages(r);
    }
    net.send(hup(2n));
    expect(peer(net, 2n).state).toBe(StateType.Leader);
    net.recover();
    net.send(newMessage({ type: MessageType.MsgBeat, from: 1n, to: 1n }));
    expect(peer(net, 1n).state).toBe(StateType.Follower);
    expect(peer(net, 1n).term).toBe(peer(net, 2n).term);
  });
});

describe("proposals", () => {
  it("are dropped with ProposalDroppedError when there is no leader", () => {
    const r = newTestRaft(1n, new MemoryStorage(confStateOf(ids3)));
    expect(() => r.step(prop(1n))).toThrow(ProposalDroppedError);
    expect(() => r.step(prop(1n))).toThrow("raft proposal dropped");
  });

  it("are forwarded by followers to the leader", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.send(prop(2n, "forwarded"));
    const l = peer(net, 1n);
    expect(l.raftLog.allEntries().some((e) => new TextDecoder().decode(e.data) === "forwarded")).toBe(true);
    expect(l.raftLog.committed).toBe(2);
  });

  it("are dropped by followers when forwarding is disabled", () => {
    const net = new Network(ids3, () => ({ disableProposalForwarding: true }));
    net.send(hup(1n));
    expect(() => peer(net, 2n).step(prop(2n))).toThrow(ProposalDroppedError);
  });

  it("are dropped beyond maxUncommittedEntriesSize, and admitted again once entries commit", () => {
    const net = new Network(ids3, () => ({ maxUncommittedEntriesSize: 10 }));
    net.send(hup(1n));
    const l = peer(net, 1n);
    net.isolate(1n);
    l.step(prop(1n, "12345"));
    l.step(prop(1n, "12345"));
    expect(() => l.step(prop(1n, "1"))).toThrow(ProposalDroppedError);
    expect(l.uncommittedSize).toBe(10);
    // Once committed and applied, the budget is released.
    net.recover();
    net.send(newMessage({ type: MessageType.MsgBeat, from: 1n, to: 1n }));
    const ents = l.raftLog.nextCommittedEnts();
    l.raftLog.applyingTo(ents[ents.length - 1]!.index);
    l.appliedTo(ents[ents.length - 1]!.index, 10);
    expect(l.uncommittedSize).toBe(0);
    expect(() => l.step(prop(1n, "1"))).not.toThrow();
  });

  it("are dropped during a leader transfer", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.isolate(3n);
    peer(net, 1n).step(newMessage({ type: MessageType.MsgTransferLeader, from: 3n, to: 1n }));
    expect(peer(net, 1n).leadTransferee).toBe(3n);
    expect(() => peer(net, 1n).step(prop(1n))).toThrow(ProposalDroppedError);
  });
});

describe("log replication flow control", () => {
  it("a follower in replicate state gets at most maxInflightMsgs unacknowledged appends", () => {
    const st = new MemoryStorage(confStateOf([1n, 2n]));
    const r = newTestRaft(1n, st, { maxInflightMsgs: 3 });
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    r.trk.progress.get(2n)!.becomeReplicate();
    for (let i = 0; i < 10; i++) r.step(prop(1n));
    const apps = readMessages(r).filter((m) => m.type === MessageType.MsgApp);
    expect(apps).toHaveLength(3);
    expect(r.trk.progress.get(2n)!.inflights.full()).toBe(true);
    // Acknowledging the first frees a slot and releases the next append.
    r.step(
      newMessage({
        type: MessageType.MsgAppResp,
        from: 2n,
        to: 1n,
        term: 1,
        index: apps[0]!.index + apps[0]!.entries.length,
      }),
    );
    expect(readMessages(r).filter((m) => m.type === MessageType.MsgApp).length).toBeGreaterThan(0);
  });

  it("the inflight window is also bounded by bytes", () => {
    const st = new MemoryStorage(confStateOf([1n, 2n]));
    const r = newTestRaft(1n, st, { maxInflightMsgs: 100, maxInflightBytes: 20, maxSizePerMsg: 10 });
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    r.trk.progress.get(2n)!.becomeReplicate();
    for (let i = 0; i < 10; i++) r.step(prop(1n, "0123456789"));
    // Two 10-byte payloads fill the 20-byte window (the leader's empty entry costs nothing).
    const apps = readMessages(r).filter(
      (m) => m.type === MessageType.MsgApp && m.entries.some((e) => e.data.length > 0),
    );
    expect(apps).toHaveLength(2);
    expect(r.trk.progress.get(2n)!.inflights.sizeBytes()).toBe(20);
  });

  it("a probing leader sends one append at a time until it hears back", () => {
    const st = new MemoryStorage(confStateOf([1n, 2n]));
    const r = newTestRaft(1n, st);
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    expect(r.trk.progress.get(2n)!.state).toBe(ProgressState.Probe);
    r.step(prop(1n));
    r.step(prop(1n));
    expect(readMessages(r).filter((m) => m.type === MessageType.MsgApp)).toHaveLength(1);
    // A heartbeat response resumes probing.
    r.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term: 1 }));
    expect(readMessages(r).filter((m) => m.type === MessageType.MsgApp)).toHaveLength(1);
  });

  it("maxSizePerMsg limits the entries of one append (but at least one is sent)", () => {
    const st = new MemoryStorage(confStateOf([1n, 2n]));
    const r = newTestRaft(1n, st, { maxSizePerMsg: 0 });
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    for (let i = 0; i < 5; i++) r.step(prop(1n));
    readMessages(r);
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 0 }));
    const apps = readMessages(r).filter((m) => m.type === MessageType.MsgApp);
    expect(apps.every((m) => m.entries.length === 1)).toBe(true);
  });

  it("fast backtracking: a rejection hint skips a whole term of mismatching entries", () => {
    // Leader log terms: 1 1 1 4 4 4 4 4; follower: 1 1 1 2 2 2 2 2 2 (longer, divergent from index 4).
    const lst = new MemoryStorage(confStateOf([1n, 2n]));
    lst.append([1, 1, 1, 4, 4, 4, 4, 4].map((t, i) => newEntry({ term: t, index: i + 1 })));
    lst.setHardState({ term: 4, vote: NONE, commit: 0 });
    const fst = new MemoryStorage(confStateOf([1n, 2n]));
    fst.append([1, 1, 1, 2, 2, 2, 2, 2, 2].map((t, i) => newEntry({ term: t, index: i + 1 })));
    fst.setHardState({ term: 4, vote: NONE, commit: 0 });
    const net = new Network([]);
    net.set(1n, newTestRaft(1n, lst));
    net.set(2n, newTestRaft(2n, fst));
    net.send(hup(1n));
    expect(peer(net, 1n).state).toBe(StateType.Leader);
    const rejects = net.delivered.filter((m) => m.type === MessageType.MsgAppResp && m.reject);
    // One rejection is enough to find the match point at index 3.
    expect(rejects.length).toBeLessThanOrEqual(2);
    expect(
      peer(net, 2n)
        .raftLog.allEntries()
        .map((e) => e.term),
    ).toEqual(
      peer(net, 1n)
        .raftLog.allEntries()
        .map((e) => e.term),
    );
  });
});

describe("ReadIndex", () => {
  it("Safe: answers after a quorum heartbeat round, with the commit index at arrival", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    const l = peer(net, 1n);
    net.send(
      newMessage({
        type: MessageType.MsgReadIndex,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: enc.encode("ctx1") })],
      }),
    );
    expect(l.readStates).toEqual([{ index: 1, requestCtx: enc.encode("ctx1") }]);
  });

  it("Safe: no answer without a quorum of heartbeat responses", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.isolate(1n);
    const l = peer(net, 1n);
    net.send(
      newMessage({
        type: MessageType.MsgReadIndex,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: enc.encode("c") })],
      }),
    );
    expect(l.readStates).toEqual([]);
    net.recover();
    net.send(newMessage({ type: MessageType.MsgBeat, from: 1n, to: 1n }));
    expect(l.readStates.map((s) => s.index)).toEqual([1]);
  });

  it("is forwarded by followers and answered to them", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.send(
      newMessage({
        type: MessageType.MsgReadIndex,
        from: 2n,
        to: 2n,
        entries: [newEntry({ data: enc.encode("f") })],
      }),
    );
    expect(peer(net, 2n).readStates).toEqual([{ index: 1, requestCtx: enc.encode("f") }]);
  });

  it("waits until the leader committed an entry of its own term", () => {
    const net = new Network(ids3);
    net.ignore(MessageType.MsgAppResp);
    net.send(hup(1n));
    const l = peer(net, 1n);
    expect(l.raftLog.committed).toBe(0);
    net.send(
      newMessage({
        type: MessageType.MsgReadIndex,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: enc.encode("w") })],
      }),
    );
    expect(l.readStates).toEqual([]);
    expect(l.pendingReadIndexMessages).toHaveLength(1);
    net.recover();
    net.send(newMessage({ type: MessageType.MsgBeat, from: 1n, to: 1n }));
    expect(l.readStates.map((s) => s.index)).toEqual([1]);
  });

  it("pending requests are bounded: beyond MAX_PENDING_READ_INDEX_REQUESTS they are dropped", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.isolate(1n);
    const l = peer(net, 1n);
    for (let i = 0; i < MAX_PENDING_READ_INDEX_REQUESTS; i++) {
      l.step(
        newMessage({
          type: MessageType.MsgReadIndex,
          from: 1n,
          to: 1n,
          entries: [newEntry({ data: enc.encode(`q${i}`) })],
        }),
      );
    }
    readMessages(l);
    expect(() =>
      l.step(
        newMessage({
          type: MessageType.MsgReadIndex,
          from: 1n,
          to: 1n,
          entries: [newEntry({ data: enc.encode("one-more") })],
        }),
      ),
    ).toThrow(ProposalDroppedError);
  });

  it("LeaseBased: answers at once from the leader (requires CheckQuorum)", () => {
    const net = new Network(ids3, () => ({ checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased }));
    net.send(hup(1n));
    net.isolate(1n);
    const l = peer(net, 1n);
    l.step(
      newMessage({
        type: MessageType.MsgReadIndex,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: enc.encode("l") })],
      }),
    );
    expect(l.readStates.map((s) => s.index)).toEqual([1]);
  });
});

describe("leader transfer", () => {
  it("transfers to an up-to-date follower with MsgTimeoutNow", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.send(newMessage({ type: MessageType.MsgTransferLeader, from: 2n, to: 1n }));
    expect(peer(net, 2n).state).toBe(StateType.Leader);
    expect(peer(net, 1n).state).toBe(StateType.Follower);
    expect(net.delivered.some((m) => m.type === MessageType.MsgTimeoutNow)).toBe(true);
  });

  it("catches a lagging transferee up before sending MsgTimeoutNow", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.isolate(3n);
    net.send(prop(1n));
    net.recover();
    net.send(newMessage({ type: MessageType.MsgTransferLeader, from: 3n, to: 1n }));
    expect(peer(net, 3n).state).toBe(StateType.Leader);
  });

  it("is abandoned after an election timeout if the transferee does not take over", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.isolate(3n);
    const l = peer(net, 1n);
    l.step(newMessage({ type: MessageType.MsgTransferLeader, from: 3n, to: 1n }));
    expect(l.leadTransferee).toBe(3n);
    for (let i = 0; i < l.electionTimeout; i++) l.tick();
    expect(l.leadTransferee).toBe(NONE);
    expect(l.state).toBe(StateType.Leader);
  });

  it("a follower forwards a transfer request to the leader", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.send(newMessage({ type: MessageType.MsgTransferLeader, from: 3n, to: 2n }));
    expect(peer(net, 3n).state).toBe(StateType.Leader);
  });

  it("a transfer ignores the CheckQuorum lease of the voters", () => {
    const net = new Network(ids3, () => ({ checkQuorum: true, preVote: true }));
    net.send(hup(1n));
    net.send(newMessage({ type: MessageType.MsgTransferLeader, from: 2n, to: 1n }));
    expect(peer(net, 2n).state).toBe(StateType.Leader);
  });
});

function ccEntry(cc: ConfChangeV2) {
  return newMessage({
    type: MessageType.MsgProp,
    from: 1n,
    to: 1n,
    entries: [newEntry({ type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) })],
  });
}

describe("membership", () => {
  it("only one conf change may be pending: a second is replaced by an empty entry", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    const l = peer(net, 1n);
    const add = (id: bigint): ConfChangeV2 => ({
      transition: ConfChangeTransition.Auto,
      changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: id }],
      context: new Uint8Array(),
    });
    l.step(ccEntry(add(4n)));
    l.step(ccEntry(add(5n)));
    const ents = l.raftLog.allEntries();
    expect(ents.map((e) => e.type)).toEqual([EntryType.Normal, EntryType.ConfChangeV2, EntryType.Normal]);
    expect(l.pendingConfIndex).toBe(2);
  });

  it("a joint config with auto-leave is left by the leader once applied", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    const l = peer(net, 1n);
    l.step(
      ccEntry({
        transition: ConfChangeTransition.JointImplicit,
        changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 4n }],
        context: new Uint8Array(),
      }),
    );
    readMessages(l);
    // Apply the entering change on the leader (as the driver would).
    const committed = l.raftLog.committed;
    expect(committed).toBe(1); // not yet: followers have not acked (messages were taken)
    l.applyConfChange({
      transition: ConfChangeTransition.JointImplicit,
      changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 4n }],
      context: new Uint8Array(),
    });
    expect(l.trk.config.voters.isJoint()).toBe(true);
    expect(l.trk.config.autoLeave).toBe(true);
    for (const id of [2n, 3n])
      l.step(newMessage({ type: MessageType.MsgAppResp, from: id, to: 1n, term: 1, index: 2 }));
    l.raftLog.applyingTo(2);
    l.appliedTo(2, 0);
    const last = l.raftLog.allEntries().at(-1)!;
    expect(last.type).toBe(EntryType.ConfChangeV2);
    expect(last.data.byteLength).toBe(0); // the empty ConfChangeV2 that leaves the joint config
  });

  it("a proposal to leave a joint config is refused when not joint", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    const l = peer(net, 1n);
    l.step(ccEntry({ transition: ConfChangeTransition.Auto, changes: [], context: new Uint8Array() }));
    expect(l.raftLog.allEntries().at(-1)!.type).toBe(EntryType.Normal);
  });

  it("a leader removed from the config steps down when stepDownOnRemoval is set", () => {
    const net = new Network(ids3, () => ({ stepDownOnRemoval: true }));
    net.send(hup(1n));
    const l = peer(net, 1n);
    l.applyConfChange({
      transition: 0,
      changes: [{ type: ConfChangeType.RemoveNode, nodeId: 1n }],
      context: new Uint8Array(),
    });
    expect(l.state).toBe(StateType.Follower);
  });

  it("a removed leader keeps leading but refuses proposals without stepDownOnRemoval", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    const l = peer(net, 1n);
    l.applyConfChange({
      transition: 0,
      changes: [{ type: ConfChangeType.RemoveNode, nodeId: 1n }],
      context: new Uint8Array(),
    });
    expect(l.state).toBe(StateType.Leader);
    expect(() => l.step(prop(1n))).toThrow(ProposalDroppedError);
  });

  it("a learner receives the log but neither votes nor campaigns", () => {
    const st = new MemoryStorage(confStateOf([1n, 2n], [3n]));
    const net = new Network([]);
    for (const id of [1n, 2n, 3n])
      net.set(id, newTestRaft(id, id === 3n ? st : new MemoryStorage(confStateOf([1n, 2n], [3n]))));
    net.send(hup(1n));
    net.send(prop(1n));
    expect(peer(net, 3n).raftLog.committed).toBe(2);
    expect(peer(net, 3n).isLearner).toBe(true);
    net.send(hup(3n));
    expect(peer(net, 3n).state).toBe(StateType.Follower);
    const votes = net.delivered.filter((m) => m.type === MessageType.MsgVote);
    expect(votes.every((m) => m.to !== 3n)).toBe(true);
  });
});

describe("snapshots", () => {
  function compactedLeader(): { net: Network; l: Raft; st: MemoryStorage } {
    const net = new Network(ids3);
    net.send(hup(1n));
    net.isolate(3n);
    for (let i = 0; i < 5; i++) net.send(prop(1n));
    const l = peer(net, 1n);
    const st = net.storage.get(1n)!;
    st.append(l.raftLog.unstableEntries());
    l.raftLog.stableTo(l.raftLog.lastIndex(), l.term);
    st.createSnapshot(5, undefined, enc.encode("state@5"));
    st.compact(5);
    return { net, l, st };
  }

  it("a follower whose entries were compacted receives a snapshot, and resumes after reportSnapshot", () => {
    const { net, l } = compactedLeader();
    net.recover();
    const snaps: bigint[] = [];
    net.hook = (m) => {
      if (m.type === MessageType.MsgSnap) snaps.push(m.to);
      return true;
    };
    net.send(newMessage({ type: MessageType.MsgBeat, from: 1n, to: 1n }));
    expect(snaps).toEqual([3n]);
    const f = peer(net, 3n);
    // The follower installed the snapshot (pending persistence) and was caught up with the rest.
    expect(f.raftLog.hasPendingSnapshot()).toBe(true);
    expect(f.raftLog.firstIndex()).toBe(6);
    expect(l.trk.progress.get(3n)!.state).toBe(ProgressState.Replicate);
    l.step(newMessage({ type: MessageType.MsgSnapStatus, from: 3n, to: 1n }));
    net.send(newMessage({ type: MessageType.MsgBeat, from: 1n, to: 1n }));
    expect(f.raftLog.lastIndex()).toBe(l.raftLog.lastIndex());
    expect(l.trk.progress.get(3n)!.match).toBe(l.raftLog.lastIndex());
  });

  it("a failed snapshot send puts the follower back to probing from its match", () => {
    const { net, l } = compactedLeader();
    net.recover();
    net.ignore(MessageType.MsgSnap);
    net.send(newMessage({ type: MessageType.MsgBeat, from: 1n, to: 1n }));
    const pr = l.trk.progress.get(3n)!;
    expect(pr.state).toBe(ProgressState.Snapshot);
    l.step(newMessage({ type: MessageType.MsgSnapStatus, from: 3n, to: 1n, reject: true }));
    expect(pr.state).toBe(ProgressState.Probe);
    expect(pr.pendingSnapshot).toBe(0);
    expect(pr.next).toBe(pr.match + 1);
  });

  it("a stale snapshot (at or below the commit index) is ignored", () => {
    const st = new MemoryStorage(confStateOf(ids3));
    const r = newTestRaft(1n, st);
    r.becomeFollower(1, 2n);
    r.step(
      newMessage({
        type: MessageType.MsgApp,
        from: 2n,
        to: 1n,
        term: 1,
        entries: [newEntry({ term: 1, index: 1 }), newEntry({ term: 1, index: 2 })],
        commit: 2,
      }),
    );
    readMessages(r);
    const ok = r.restore({
      data: new Uint8Array(),
      metadata: { index: 2, term: 1, confState: confStateOf(ids3) },
    });
    expect(ok).toBe(false);
  });
});

describe("forgetLeader", () => {
  it("makes a follower forget its leader so it can vote at once", () => {
    const net = new Network(ids3);
    net.send(hup(1n));
    const f = peer(net, 2n);
    expect(f.lead).toBe(1n);
    f.step(newMessage({ type: MessageType.MsgForgetLeader }));
    expect(f.lead).toBe(NONE);
  });

  it("is ignored with lease-based reads", () => {
    const net = new Network(ids3, () => ({ checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased }));
    net.send(hup(1n));
    const f = peer(net, 2n);
    f.step(newMessage({ type: MessageType.MsgForgetLeader }));
    expect(f.lead).toBe(1n);
  });
});
