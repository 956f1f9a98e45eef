/**
 * Micro-benchmark (not a test): committed proposals per second for a 3-node in-memory cluster, with
 * batching (many proposals per driver turn, so one Ready carries many entries and one MsgApp many).
 *   pnpm --filter @etcd-ts/raft bench [-- --seconds 3 --batch 256 --size 128]
 */

import type { Message } from "../index.js";
import { MemoryStorage, RawNode, StateType } from "../index.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
}

const seconds = arg("seconds", 3);
const batch = arg("batch", 256);
const size = arg("size", 128);
const ids = [1n, 2n, 3n];
let seed = 1;
const nodes = new Map(
  ids.map((id) => {
    const storage = new MemoryStorage({
      voters: ids,
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    });
    const node = new RawNode({
      id,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      random: (n) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      },
    });
    return [id, { node, storage, applied: 0, compactedTo: 0 }] as [
      bigint,
      { node: RawNode; storage: MemoryStorage; applied: number; compactedTo: number },
    ];
  }),
);

let inFlight: Message[] = [];
function turn(): void {
  for (const n of nodes.values()) {
    if (!n.node.hasReady()) continue;
    const rd = n.node.ready();
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    for (const m of rd.messages) inFlight.push(m);
    n.applied += rd.committedEntries.filter((e) => e.data.length > 0).length;
    const last = rd.committedEntries.at(-1);
    n.node.advance();
    // Keep memory bounded: compact the log behind what was applied.
    if (last && last.index - n.compactedTo > 100_000) {
      n.storage.createSnapshot(last.index, undefined, new Uint8Array());
      n.storage.compact(last.index);
      n.compactedTo = last.index;
    }
  }
  const msgs = inFlight;
  inFlight = [];
  for (const m of msgs) nodes.get(m.to)!.node.step(m);
}

nodes.get(1n)!.node.campaign();
for (let i = 0; i < 10; i++) turn();
const leader = nodes.get(1n)!;
if (leader.node.status().softState.raftState !== StateType.Leader) throw new Error("no leader");
const payload = new Uint8Array(size);
const start = performance.now();
const base = leader.applied;
let proposed = 0;
while (performance.now() - start < seconds * 1000) {
  for (let i = 0; i < batch; i++) {
    leader.node.propose(payload);
    proposed++;
  }
  turn();
  turn();
}
for (let i = 0; i < 10; i++) turn();
const secs = (performance.now() - start) / 1000;
const committed = leader.applied - base;
console.log(
  `3-node in-memory cluster, batch ${batch}, ${size}-byte proposals: ${committed} committed in ${secs.toFixed(2)} s = ${Math.round(committed / secs)} proposals/s (proposed ${proposed})`,
);
