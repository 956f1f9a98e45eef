// A 3-node replicated map over an in-memory "network": the complete raft driver loop.

import type { Message } from "../index.js";
import {
  decodeConfChange,
  decodeConfChangeV2,
  EntryType,
  MemoryStorage,
  RawNode,
  StateType,
} from "../index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

class Member {
  readonly storage = new MemoryStorage({
    voters: [1n, 2n, 3n],
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  });
  readonly node: RawNode;
  readonly map = new Map<string, string>();

  constructor(readonly id: bigint) {
    this.node = new RawNode({
      id,
      electionTick: 10, // a follower campaigns after 10..19 ticks without a leader
      heartbeatTick: 1, // a leader sends heartbeats every tick
      storage: this.storage,
      checkQuorum: true,
      preVote: true,
      random: (n) => Math.floor(Math.random() * n), // the only randomness raft uses
    });
  }

  /** One turn of the driver loop: persist, then send, then apply, then advance. */
  handleReady(send: (m: Message) => void): void {
    if (!this.node.hasReady()) return;
    const rd = this.node.ready();
    // 1. Persist the snapshot, entries and hard state (a real server writes and fsyncs its WAL here).
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    // 2. Only now send the messages: some of them promise that step 1 is durable.
    for (const m of rd.messages) send(m);
    // 3. Apply committed entries in order.
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.Normal && e.data.length > 0) {
        const [k, v] = JSON.parse(dec.decode(e.data)) as [string, string];
        this.map.set(k, v);
      } else if (e.type === EntryType.ConfChange) {
        this.node.applyConfChange(decodeConfChange(e.data));
      } else if (e.type === EntryType.ConfChangeV2) {
        this.node.applyConfChange(decodeConfChangeV2(e.data));
      }
    }
    // 4. Tell raft the Ready was handled.
    this.node.advance();
  }
}

/** runReplicatedMap elects a leader, writes `count` keys through it, and returns every member's map. */
export function runReplicatedMap(count: number): Map<string, string>[] {
  const members = new Map([1n, 2n, 3n].map((id) => [id, new Member(id)] as const));
  let inFlight: Message[] = [];
  const send = (m: Message) => inFlight.push(m);
  const turn = () => {
    for (const m of members.values()) m.handleReady(send);
    const batch = inFlight;
    inFlight = [];
    for (const msg of batch) members.get(msg.to)?.node.step(msg);
  };
  let written = 0;
  for (let tick = 0; tick < 10_000 && written < count; tick++) {
    for (const m of members.values()) m.node.tick(); // a real server ticks on a timer (e.g. 100 ms)
    for (let i = 0; i < 5; i++) turn();
    const leader = [...members.values()].find(
      (m) => m.node.status().softState.raftState === StateType.Leader,
    );
    if (leader) leader.node.propose(enc.encode(JSON.stringify([`key${written}`, `value${written++}`])));
  }
  for (let i = 0; i < 20; i++) turn(); // let the last writes reach everyone
  return [...members.values()].map((m) => m.map);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const maps = runReplicatedMap(100);
  console.log(maps.map((m, i) => `member ${i + 1}: ${m.size} keys, key42=${m.get("key42")}`).join("\n"));
}
