import type { Config } from "../config.js";
import { ProposalDroppedError } from "../errors.js";
import { Raft } from "../raft.js";
import { MemoryStorage } from "../storage.js";
import type { ConfState, Message, MessageType } from "../types.js";

/**
 * In-memory message bus over Raft state machines, for unit tests: `send` delivers messages (and every
 * message they cause) until the network is quiet. Links can be cut and message types ignored. Entries
 * stay in each node's unstable log (persistence is not modelled here; the simulation does that).
 */
export class Network {
  readonly peers = new Map<bigint, Raft>();
  readonly storage = new Map<bigint, MemoryStorage>();
  private readonly cuts = new Set<string>();
  private readonly ignored = new Set<MessageType>();
  /** Every message delivered, in order (for assertions). */
  readonly delivered: Message[] = [];
  /** Optional hook that may drop (return false) or observe a message before delivery. */
  hook: ((m: Message) => boolean) | undefined = undefined;

  /** Creates a network of fresh nodes with the given ids (all voters) and config overrides. */
  constructor(ids: bigint[], configure: (id: bigint) => Partial<Config> = () => ({})) {
    for (const id of ids) {
      const st = new MemoryStorage(confStateOf(ids));
      this.storage.set(id, st);
      this.peers.set(id, newTestRaft(id, st, configure(id)));
    }
  }

  /** Replaces the node `id` (e.g. with a prepared log). */
  set(id: bigint, r: Raft): void {
    this.peers.set(id, r);
  }

  /** send delivers msgs and all their consequences until nothing is in flight. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    let budget = 100_000;
    while (queue.length > 0) {
      if (--budget === 0) throw new Error("network did not quiesce");
      const m = queue.shift()!;
      if (!this.deliverable(m)) continue;
      const p = this.peers.get(m.to)!;
      this.delivered.push(m);
      try {
        p.step(m);
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
      }
      queue.push(...readMessages(p));
    }
  }

  /** deliverable reports whether m would reach its target (not cut, not ignored, target exists). */
  private deliverable(m: Message): boolean {
    if (!this.peers.has(m.to)) return false;
    if (this.cuts.has(`${m.from}-${m.to}`)) return false;
    if (this.ignored.has(m.type)) return false;
    return this.hook === undefined || this.hook(m);
  }

  /** cut drops all messages between a and b (both directions). */
  cut(a: bigint, b: bigint): void {
    this.cuts.add(`${a}-${b}`).add(`${b}-${a}`);
  }

  /** isolate cuts id from every other node. */
  isolate(id: bigint): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  /** ignore drops every message of type t. */
  ignore(t: MessageType): void {
    this.ignored.add(t);
  }

  /** recover heals all cuts and ignores. */
  recover(): void {
    this.cuts.clear();
    this.ignored.clear();
  }
}

/** confStateOf returns a ConfState with the given voters. */
export function confStateOf(voters: bigint[], learners: bigint[] = []): ConfState {
  return { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/** newTestRaft builds a Raft with election 10 / heartbeat 1 and a deterministic "random" of 0. */
export function newTestRaft(id: bigint, storage: MemoryStorage, overrides: Partial<Config> = {}): Raft {
  return new Raft({
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage,
    maxInflightMsgs: 256,
    random: () => 0,
    ...overrides,
  });
}

/** readMessages takes the node's outgoing messages. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}
