/**
 * One test per rule of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", §5), each named after the rule it checks.
 */
import { describe, expect, it } from "vitest";
import { VoteResult } from "./quorum/vote-result.js";
import type { Raft } from "./raft.js";
import { MemoryStorage } from "./storage.js";
import { confStateOf, Network, newTestRaft, readMessages } from "./testing/network.js";
import type { Entry } from "./types.js";
import { MessageType, NONE, newEntry, newMessage, StateType } from "./types.js";

const enc = new TextEncoder();
const ids3 = [1n, 2n, 3n];

function raftWith(id: bigint, peers: bigint[], entries: Entry[] = [], term = 0): Raft {
  const st = new MemoryStorage(confStateOf(peers));
  st.append(entries);
  if (term > 0) st.setHardState({ term, vote: NONE, commit: 0 });
  return newTestRaft(id, st);
}

function ents(...terms: number[]): Entry[] {
  return terms.map((t, i) => newEntry({ term: t, index: i + 1 }));
}

function elect(r: Raft): void {
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
}

function commitNoopEntry(r: Raft): void {
  // Acknowledge the leader's empty entry from every follower so it commits.
  r.bcastAppend();
  for (const m of readMessages(r)) {
    r.step(
      newMessage({
        type: MessageType.MsgAppResp,
        from: m.to,
        to: r.id,
        term: r.term,
        index: r.raftLog.lastIndex(),
      }),
    );
  }
  readMessages(r);
}

describe("§5.1 terms", () => {
  for (const [name, setup] of [
    ["follower", (r: Raft) => r.becomeFollower(1, 2n)],
    ["candidate", (r: Raft) => r.becomeCandidate()],
    ["pre-candidate", (r: Raft) => r.becomePreCandidate()],
    ["leader", (r: Raft) => elect(r)],
  ] as const) {
    it(`a ${name} that sees a larger term updates its term and reverts to follower`, () => {
      const r = raftWith(1n, ids3);
      setup(r);
      r.step(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 5 }));
      expect(r.term).toBe(5);
      expect(r.state).toBe(StateType.Follower);
      expect(r.lead).toBe(2n);
    });
  }

  it("a server rejects (ignores) a request with a stale term", () => {
    const r = raftWith(1n, ids3, [], 2);
    r.step(
      newMessage({
        type: MessageType.MsgApp,
        from: 2n,
        to: 1n,
        term: 1,
        index: 0,
        entries: [newEntry({ term: 1, index: 1 })],
      }),
    );
    expect(r.raftLog.lastIndex()).toBe(0);
    expect(r.term).toBe(2);
  });

  it("a stale vote request is rejected, and the reply carries the current term for the candidate to update itself", () => {
    const r = raftWith(1n, ids3, [], 3);
    r.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 2 }));
    const msgs = readMessages(r);
    expect(msgs.map((m) => [m.type, m.to, m.term, m.reject])).toEqual([
      [MessageType.MsgVoteResp, 2n, 3, true],
    ]);
    expect(r.vote).toBe(NONE);
    // The candidate steps down to the newer term.
    const c = raftWith(2n, ids3);
    c.becomeCandidate();
    c.step(msgs[0]!);
    expect(c.state).toBe(StateType.Follower);
    expect(c.term).toBe(3);
  });
});

describe("§5.2 leader election", () => {
  it("servers start as followers", () => {
    const r = raftWith(1n, ids3);
    expect(r.state).toBe(StateType.Follower);
  });

  it("a leader sends heartbeats to all followers every heartbeat timeout", () => {
    const r = raftWith(1n, ids3);
    elect(r);
    r.tick();
    const msgs = readMessages(r).sort((a, b) => Number(a.to - b.to));
    expect(msgs.map((m) => [m.type, m.to, m.term])).toEqual([
      [MessageType.MsgHeartbeat, 2n, 1],
      [MessageType.MsgHeartbeat, 3n, 1],
    ]);
  });

  for (const state of ["follower", "candidate"] as const) {
    it(`a ${state} that hears nothing for an election timeout starts an election: term+1, votes for itself, requests votes`, () => {
      const r = raftWith(1n, ids3);
      if (state === "candidate") {
        r.becomeCandidate();
        readMessages(r);
      }
      const term = r.term;
      for (let i = 0; i < r.electionTimeout; i++) r.tick();
      expect(r.state).toBe(StateType.Candidate);
      expect(r.term).toBe(term + 1);
      expect(r.vote).toBe(1n);
      const msgs = readMessages(r).sort((a, b) => Number(a.to - b.to));
      expect(msgs.map((m) => [m.type, m.to, m.term])).toEqual([
        [MessageType.MsgVote, 2n, term + 1],
        [MessageType.MsgVote, 3n, term + 1],
      ]);
    });
  }

  it("a candidate wins with votes from a majority, loses with a majority of rejections, else waits", () => {
    const cases: [number, Map<bigint, boolean>, StateType][] = [
      [1, new Map(), StateType.Leader],
      [
        3,
        new Map([
          [2n, true],
          [3n, true],
        ]),
        StateType.Leader,
      ],
      [3, new Map([[2n, true]]), StateType.Leader],
      [
        5,
        new Map([
          [2n, true],
          [3n, true],
          [4n, true],
          [5n, true],
        ]),
        StateType.Leader,
      ],
      [
        5,
        new Map([
          [2n, true],
          [3n, true],
        ]),
        StateType.Leader,
      ],
      [3, new Map(), StateType.Candidate],
      [5, new Map([[2n, true]]), StateType.Candidate],
      [
        5,
        new Map([
          [2n, false],
          [3n, false],
        ]),
        StateType.Candidate,
      ],
      [
        3,
        new Map([
          [2n, false],
          [3n, false],
        ]),
        StateType.Follower,
      ],
      [
        5,
        new Map([
          [2n, true],
          [3n, false],
          [4n, false],
          [5n, false],
        ]),
        StateType.Follower,
      ],
    ];
    for (const [size, votes, want] of cases) {
      const peers = Array.from({ length: size }, (_, i) => BigInt(i + 1));
      const r = raftWith(1n, peers);
      r.step(newMessage({ type: MessageType.MsgHup, from: 1n, to: 1n }));
      for (const [id, granted] of votes) {
        r.step(
          newMessage({ type: MessageType.MsgVoteResp, from: id, to: 1n, term: r.term, reject: !granted }),
        );
      }
      expect(r.state, `size ${size} votes ${[...votes]}`).toBe(want);
      expect(r.term).toBe(1);
    }
  });

  it("a server votes for at most one candidate per term, first come first served", () => {
    const cases: [bigint, bigint, boolean][] = [
      [NONE, 2n, false],
      [NONE, 3n, false],
      [2n, 2n, false],
      [3n, 3n, false],
      [2n, 3n, true],
      [3n, 2n, true],
    ];
    for (const [vote, nvote, reject] of cases) {
      const r = raftWith(1n, ids3);
      r.term = 1;
      r.vote = vote;
      r.step(newMessage({ type: MessageType.MsgVote, from: nvote, to: 1n, term: 1 }));
      const msgs = readMessages(r);
      expect(msgs.map((m) => [m.type, m.to, m.term, m.reject])).toEqual([
        [MessageType.MsgVoteResp, nvote, 1, reject],
      ]);
    }
  });

  it("a candidate that receives AppendEntries from a leader of its term (or newer) becomes follower", () => {
    for (const term of [1, 2]) {
      const r = raftWith(1n, ids3);
      r.step(newMessage({ type: MessageType.MsgHup, from: 1n, to: 1n }));
      expect(r.state).toBe(StateType.Candidate);
      r.step(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term }));
      expect(r.state).toBe(StateType.Follower);
      expect(r.term).toBe(term);
      expect(r.lead).toBe(2n);
    }
  });

  it("election timeouts are randomized in [T, 2T) and every value in the range occurs", () => {
    let n = 0;
    const r = newTestRaft(1n, new MemoryStorage(confStateOf(ids3)), { random: (k) => n % k });
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) {
      n = i;
      r.becomeFollower(r.term + 1, NONE);
      let ticks = 0;
      while (r.state === StateType.Follower) {
        r.tick();
        ticks++;
      }
      readMessages(r);
      seen.add(ticks);
    }
    for (let t = 10; t < 20; t++) expect(seen.has(t), `timeout ${t}`).toBe(true);
    expect(Math.min(...seen)).toBe(10);
    expect(Math.max(...seen)).toBe(19);
  });

  it("randomized timeouts make split votes rare: with different timeouts only one node times out first", () => {
    const seq = [0, 5, 9];
    let i = 0;
    const net = new Network(ids3, () => ({ random: (k) => (seq[i++ % seq.length] ?? 0) % k }));
    // Tick everyone until somebody campaigns: the node with the smallest timeout wins alone.
    for (let t = 0; t < 30; t++) {
      for (const r of net.peers.values()) r.tick();
      const msgs = [...net.peers.values()].flatMap((r) => readMessages(r));
      net.send(...msgs);
      if ([...net.peers.values()].some((r) => r.state === StateType.Leader)) break;
    }
    const leaders = [...net.peers.values()].filter((r) => r.state === StateType.Leader);
    expect(leaders).toHaveLength(1);
  });
});

describe("§5.3 log replication", () => {
  it("a leader appends a proposal to its log and sends AppendEntries to every follower", () => {
    const r = raftWith(1n, ids3);
    elect(r);
    commitNoopEntry(r);
    r.step(
      newMessage({
        type: MessageType.MsgProp,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: enc.encode("some data") })],
      }),
    );
    expect(r.raftLog.lastIndex()).toBe(2);
    const msgs = readMessages(r).sort((a, b) => Number(a.to - b.to));
    expect(
      msgs.map((m) => [m.type, m.to, m.index, m.logTerm, m.commit, m.entries.map((e) => [e.index, e.term])]),
    ).toEqual([
      [MessageType.MsgApp, 2n, 1, 1, 1, [[2, 1]]],
      [MessageType.MsgApp, 3n, 1, 1, 1, [[2, 1]]],
    ]);
    expect(r.raftLog.unstableEntries().map((e) => e.index)).toEqual([1, 2]);
  });

  it("a leader commits an entry once a majority stored it, and tells followers the commit index", () => {
    const r = raftWith(1n, ids3);
    elect(r);
    commitNoopEntry(r);
    r.step(
      newMessage({
        type: MessageType.MsgProp,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: enc.encode("x") })],
      }),
    );
    const apps = readMessages(r);
    expect(r.raftLog.committed).toBe(1);
    r.step(
      newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: apps[0]!.index + 1 }),
    );
    expect(r.raftLog.committed).toBe(2);
    const msgs = readMessages(r);
    expect(msgs.every((m) => m.type === MessageType.MsgApp && m.commit === 2)).toBe(true);
  });

  it("a leader needs acknowledgements from a majority (counting itself) to commit", () => {
    const cases: [number, bigint[], boolean][] = [
      [1, [], true],
      [3, [], false],
      [3, [2n], true],
      [3, [2n, 3n], true],
      [5, [], false],
      [5, [2n], false],
      [5, [2n, 3n], true],
      [5, [2n, 3n, 4n, 5n], true],
    ];
    for (const [size, acks, committed] of cases) {
      const peers = Array.from({ length: size }, (_, i) => BigInt(i + 1));
      const r = raftWith(1n, peers);
      elect(r);
      commitNoopEntry(r);
      r.step(
        newMessage({
          type: MessageType.MsgProp,
          from: 1n,
          to: 1n,
          entries: [newEntry({ data: enc.encode("x") })],
        }),
      );
      readMessages(r);
      for (const id of acks)
        r.step(newMessage({ type: MessageType.MsgAppResp, from: id, to: 1n, term: 1, index: 2 }));
      expect(r.raftLog.committed > 1, `size ${size} acks ${acks}`).toBe(committed);
    }
  });

  it("committing an entry commits all preceding entries, including those of earlier leaders", () => {
    for (const prior of [[], [2], [1, 2]]) {
      const r = raftWith(1n, ids3, ents(...prior), 2);
      r.becomeCandidate();
      r.becomeLeader();
      readMessages(r);
      r.step(
        newMessage({
          type: MessageType.MsgProp,
          from: 1n,
          to: 1n,
          entries: [newEntry({ data: enc.encode("x") })],
        }),
      );
      readMessages(r);
      const last = r.raftLog.lastIndex();
      r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3, index: last }));
      expect(r.raftLog.committed).toBe(last);
      expect(r.raftLog.nextCommittedEnts().map((e) => e.index)).toEqual(
        Array.from({ length: last }, (_, i) => i + 1),
      );
    }
  });

  it("a follower learns the commit index from AppendEntries and applies entries in log order", () => {
    const r = raftWith(1n, ids3);
    r.becomeFollower(1, 2n);
    const es = [
      newEntry({ term: 1, index: 1, data: enc.encode("a") }),
      newEntry({ term: 1, index: 2, data: enc.encode("b") }),
    ];
    r.step(
      newMessage({
        type: MessageType.MsgApp,
        from: 2n,
        to: 1n,
        term: 1,
        index: 0,
        logTerm: 0,
        entries: es,
        commit: 1,
      }),
    );
    expect(r.raftLog.committed).toBe(1);
    expect(r.raftLog.nextCommittedEnts().map((e) => e.index)).toEqual([1]);
    r.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1, commit: 2 }));
    expect(r.raftLog.nextCommittedEnts().map((e) => e.index)).toEqual([1, 2]);
  });

  it("a follower refuses AppendEntries whose previous entry it does not have (consistency check)", () => {
    const cases: [number, number, boolean, number][] = [
      // [logTerm, index, reject, hint]
      [0, 0, false, 0],
      [1, 1, false, 0],
      [2, 2, false, 0],
      [1, 2, true, 1],
      [3, 3, true, 2],
    ];
    for (const [logTerm, index, reject, hint] of cases) {
      const r = raftWith(1n, ids3, ents(1, 2));
      r.raftLog.commitTo(1);
      r.becomeFollower(2, 2n);
      r.step(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 2, logTerm, index, commit: 1 }));
      const [m] = readMessages(r);
      expect(m!.reject, `logTerm ${logTerm} index ${index}`).toBe(reject);
      if (reject) expect(m!.rejectHint).toBe(hint);
    }
  });

  it("a follower deletes conflicting entries and all that follow, then appends the new ones", () => {
    const cases: [number, number, Entry[], [number, number][]][] = [
      [
        2,
        2,
        [newEntry({ term: 3, index: 3 })],
        [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
      ],
      [
        1,
        1,
        [newEntry({ term: 3, index: 2 }), newEntry({ term: 4, index: 3 })],
        [
          [1, 1],
          [2, 3],
          [3, 4],
        ],
      ],
      [
        0,
        0,
        [newEntry({ term: 1, index: 1 })],
        [
          [1, 1],
          [2, 2],
        ],
      ],
      [0, 0, [newEntry({ term: 3, index: 1 })], [[1, 3]]],
    ];
    for (const [index, logTerm, es, want] of cases) {
      const r = raftWith(1n, ids3, ents(1, 2));
      r.becomeFollower(2, NONE);
      r.step(
        newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 2, logTerm, index, entries: es }),
      );
      expect(r.raftLog.allEntries().map((e) => [e.index, e.term])).toEqual(want);
    }
  });

  it("a leader forces followers' logs to duplicate its own (Figure 7)", () => {
    const leaderLog = ents(1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
    const followers = [
      ents(1, 1, 1, 4, 4, 5, 5, 6, 6),
      ents(1, 1, 1, 4),
      ents(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6),
      ents(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7),
      ents(1, 1, 1, 4, 4, 4, 4),
      ents(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3),
    ];
    for (const f of followers) {
      const lead = raftWith(1n, ids3, leaderLog, 8);
      const follower = raftWith(2n, ids3, f, 7);
      const other = raftWith(3n, ids3, [], 7);
      const net = new Network([]);
      net.set(1n, lead);
      net.set(2n, follower);
      net.set(3n, other);
      // The third node votes for the leader but must not receive entries (it would make a quorum).
      net.send(newMessage({ type: MessageType.MsgHup, from: 1n, to: 1n }));
      net.send(newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 1n, term: lead.term + 1 }));
      net.send(newMessage({ type: MessageType.MsgProp, from: 1n, to: 1n, entries: [newEntry({})] }));
      const l = lead.raftLog.allEntries().map((e) => [e.index, e.term]);
      expect(follower.raftLog.allEntries().map((e) => [e.index, e.term])).toEqual(l);
    }
  });
});

describe("§5.4 safety", () => {
  it("vote requests carry the candidate's last log index and term", () => {
    const r = raftWith(1n, ids3, ents(1, 2), 2);
    r.step(newMessage({ type: MessageType.MsgHup, from: 1n, to: 1n }));
    const msgs = readMessages(r);
    expect(msgs.map((m) => [m.type, m.index, m.logTerm, m.term])).toEqual([
      [MessageType.MsgVote, 2, 2, 3],
      [MessageType.MsgVote, 2, 2, 3],
    ]);
  });

  it("a voter denies its vote to a candidate whose log is less up-to-date (§5.4.1)", () => {
    const cases: [Entry[], number, number, boolean][] = [
      // voter log, candidate logTerm, candidate index, reject
      [ents(1), 1, 1, false],
      [ents(1), 1, 2, false],
      [ents(1, 1), 1, 1, true],
      [ents(1), 2, 1, false],
      [ents(1), 2, 2, false],
      [ents(1, 1), 2, 1, false],
      [ents(2), 1, 1, true],
      [ents(2), 1, 2, true],
      [ents(2, 1), 1, 1, true],
    ];
    for (const [log, logTerm, index, reject] of cases) {
      const r = raftWith(1n, ids3, log);
      r.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3, logTerm, index }));
      const [m] = readMessages(r);
      expect(m!.type).toBe(MessageType.MsgVoteResp);
      expect(m!.reject, `log ${log.map((e) => e.term)} cand ${logTerm}/${index}`).toBe(reject);
    }
  });

  it("a leader commits entries of earlier terms only by committing one of its own term (§5.4.2)", () => {
    const cases: [number, number][] = [
      // [acked index, expected commit]
      [1, 0],
      [2, 0],
      [3, 3],
    ];
    for (const [index, want] of cases) {
      const r = raftWith(1n, ids3, ents(1, 2), 2);
      // Term 3 leader; its own empty entry is index 3.
      r.becomeCandidate();
      r.becomeLeader();
      readMessages(r);
      r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: r.term, index }));
      expect(r.raftLog.committed, `ack ${index}`).toBe(want);
    }
  });

  it("Figure 8: an entry of an old term replicated on a majority is not committed, and may be overwritten", () => {
    // S1 leads term 2 with entry (2,2) on S1,S2; S5 leads term 3 with (2,3) on S5 only; S1 leads term 4
    // and replicates (2,2) to S3: a majority has it but it must NOT be committed by counting.
    const peers = [1n, 2n, 3n, 4n, 5n];
    const r = raftWith(1n, peers, ents(1, 2), 3);
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    expect(r.term).toBe(4);
    for (const id of [2n, 3n])
      r.step(newMessage({ type: MessageType.MsgAppResp, from: id, to: 1n, term: 4, index: 2 }));
    expect(r.raftLog.committed).toBe(0);
    // Once an entry of term 4 is on a majority, everything before it commits.
    for (const id of [2n, 3n])
      r.step(newMessage({ type: MessageType.MsgAppResp, from: id, to: 1n, term: 4, index: 3 }));
    expect(r.raftLog.committed).toBe(3);
  });

  it("leader completeness: a node missing a committed entry cannot win an election", () => {
    const net = new Network(ids3);
    net.send(newMessage({ type: MessageType.MsgHup, from: 1n, to: 1n }));
    net.isolate(3n);
    net.send(
      newMessage({
        type: MessageType.MsgProp,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: enc.encode("x") })],
      }),
    );
    const n1 = net.peers.get(1n)!;
    expect(n1.raftLog.committed).toBe(2);
    net.recover();
    net.isolate(1n);
    // Node 3 lacks index 2: node 2 refuses to vote for it, so it cannot become leader.
    net.send(newMessage({ type: MessageType.MsgHup, from: 3n, to: 3n }));
    expect(net.peers.get(3n)!.state).not.toBe(StateType.Leader);
    net.send(newMessage({ type: MessageType.MsgHup, from: 2n, to: 2n }));
    expect(net.peers.get(2n)!.state).toBe(StateType.Leader);
  });

  it("vote tallies use the quorum rule", () => {
    const r = raftWith(1n, [1n, 2n, 3n, 4n]);
    r.becomeCandidate();
    r.trk.recordVote(1n, true);
    r.trk.recordVote(2n, true);
    expect(r.trk.tallyVotes().result).toBe(VoteResult.Pending);
    r.trk.recordVote(3n, true);
    expect(r.trk.tallyVotes().result).toBe(VoteResult.Won);
  });
});

describe("§5.5 follower and candidate crashes", () => {
  it("RPCs are idempotent: a duplicated or reordered AppendEntries has no further effect", () => {
    const r = raftWith(1n, ids3);
    r.becomeFollower(1, 2n);
    const app1 = newMessage({
      type: MessageType.MsgApp,
      from: 2n,
      to: 1n,
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [newEntry({ term: 1, index: 1 })],
      commit: 0,
    });
    const app2 = newMessage({
      type: MessageType.MsgApp,
      from: 2n,
      to: 1n,
      term: 1,
      index: 1,
      logTerm: 1,
      entries: [newEntry({ term: 1, index: 2 })],
      commit: 1,
    });
    r.step(app1);
    r.step(app2);
    const before = r.raftLog.allEntries().map((e) => [e.index, e.term]);
    // Replaying the first append (a retry after a lost response) must not truncate entry 2.
    r.step(app1);
    r.step(app2);
    expect(r.raftLog.allEntries().map((e) => [e.index, e.term])).toEqual(before);
    expect(r.raftLog.committed).toBe(1);
    const acks = readMessages(r).map((m) => [m.type, m.index, m.reject]);
    expect(acks).toEqual([
      [MessageType.MsgAppResp, 1, false],
      [MessageType.MsgAppResp, 2, false],
      [MessageType.MsgAppResp, 1, false],
      [MessageType.MsgAppResp, 2, false],
    ]);
  });

  it("a retried vote request for the same candidate in the same term is granted again", () => {
    const r = raftWith(1n, ids3);
    const vote = newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 1 });
    r.step(vote);
    r.step(vote);
    expect(readMessages(r).map((m) => m.reject)).toEqual([false, false]);
  });
});

describe("§6 cluster membership changes", () => {
  it("a single-server change applies directly; more than one voter change needs joint consensus", () => {
    const r = raftWith(1n, ids3);
    const cs = r.applyConfChange({
      transition: 0,
      changes: [{ type: 0, nodeId: 4n }],
      context: new Uint8Array(),
    });
    expect(cs.voters).toEqual([1n, 2n, 3n, 4n]);
    expect(() =>
      r.applyConfChange({
        transition: 0,
        changes: [
          { type: 0, nodeId: 5n },
          { type: 0, nodeId: 6n },
        ],
        context: new Uint8Array(),
      }),
    ).not.toThrow(); // two changes with Auto transition enter a joint config
    expect(r.trk.config.voters.isJoint()).toBe(true);
  });

  it("in a joint configuration, commitment requires majorities of both the old and the new config", () => {
    const r = raftWith(1n, ids3);
    elect(r);
    commitNoopEntry(r);
    r.applyConfChange({
      transition: 2,
      changes: [
        { type: 0, nodeId: 4n },
        { type: 0, nodeId: 5n },
        { type: 1, nodeId: 2n },
        { type: 1, nodeId: 3n },
      ],
      context: new Uint8Array(),
    });
    readMessages(r);
    r.step(
      newMessage({
        type: MessageType.MsgProp,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: enc.encode("x") })],
      }),
    );
    readMessages(r);
    const idx = r.raftLog.lastIndex();
    // A majority of the new config (1,4,5) alone is not enough...
    for (const id of [4n, 5n])
      r.step(newMessage({ type: MessageType.MsgAppResp, from: id, to: 1n, term: 1, index: idx }));
    expect(r.raftLog.committed).toBeLessThan(idx);
    // ...until the old config (1,2,3) has a majority too.
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: idx }));
    expect(r.raftLog.committed).toBe(idx);
  });

  it("a removed server that does not know it is removed cannot disrupt a live leader (CheckQuorum lease)", () => {
    const net = new Network(ids3, () => ({ checkQuorum: true }));
    net.peers.get(1n)!.becomeFollower(1, NONE);
    for (const r of net.peers.values()) r.randomizedElectionTimeout = r.electionTimeout;
    for (let i = 0; i < 10; i++) net.peers.get(1n)!.tick();
    net.send(...readMessages(net.peers.get(1n)!));
    expect(net.peers.get(1n)!.state).toBe(StateType.Leader);
    // Node 3 campaigns with a higher term; the others heard from the leader recently and ignore it.
    net.send(newMessage({ type: MessageType.MsgVote, from: 3n, to: 2n, term: 10, index: 10, logTerm: 10 }));
    expect(net.peers.get(2n)!.term).toBe(net.peers.get(1n)!.term);
    expect(net.peers.get(1n)!.state).toBe(StateType.Leader);
  });
});
