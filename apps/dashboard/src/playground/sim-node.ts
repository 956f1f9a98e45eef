import {
  type ConfState,
  type Entry,
  EntryType,
  MemoryStorage,
  type Message,
  RawNode,
  type Ready,
} from "@etcd-ts/raft";
import { assert } from "../assert.js";
import { type Role, roleOf } from "./role.js";

/** Raft timing of every playground node, in ticks (a tick is {@link TICK_MS} of simulated time). */
export const ELECTION_TICKS = 8;
/** HEARTBEAT_TICKS is how often a leader sends heartbeats, in ticks. */
export const HEARTBEAT_TICKS = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** encodeCommand turns a client command into an entry payload. */
export function encodeCommand(command: string): Uint8Array {
  return encoder.encode(command);
}

/** decodeCommand is the inverse of {@link encodeCommand} ("" for raft's own empty entries). */
export function decodeCommand(data: Uint8Array): string {
  return decoder.decode(data);
}

/** NodeHooks are the simulation's side of a node's Ready: where messages go and what is committed. */
export interface NodeHooks {
  send(message: Message): void;
  applied(node: bigint, entry: Entry): void;
}

/**
 * SimNode is one simulated member: a RawNode over a MemoryStorage that plays the node's disk. Crashing
 * drops the RawNode (its memory) and keeps the storage; restarting builds a new RawNode from it, exactly as
 * a real server restarts from its WAL. The state machine (the list of applied commands) is memory, so it is
 * rebuilt by re-applying the committed log after a restart.
 */
export class SimNode {
  /** storage is the node's "disk": only what a Ready handed out and the driver persisted. */
  readonly storage: MemoryStorage;
  /** appliedCommands is the replicated state machine: client commands in the order they were applied. */
  appliedCommands: string[] = [];
  #raw: RawNode | undefined;

  constructor(
    readonly id: bigint,
    voters: bigint[],
    readonly random: (n: number) => number,
  ) {
    const confState: ConfState = {
      voters: [...voters],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    this.storage = new MemoryStorage(confState);
    this.#raw = this.#boot();
  }

  /** up tells whether the node is running. */
  get up(): boolean {
    return this.#raw !== undefined;
  }

  /** raw is the running RawNode; only valid while {@link up}. */
  get raw(): RawNode {
    assert(this.#raw !== undefined, `node ${this.id} is down`);
    return this.#raw;
  }

  /** role is the node's current role ("down" while crashed). */
  role(): Role {
    return this.#raw === undefined ? "down" : roleOf(this.#raw.raft.state);
  }

  /** term is the in-memory term, or the persisted one while crashed. */
  term(): number {
    return this.#raw?.raft.term ?? this.storage.savedHardState().term;
  }

  /** commit is the in-memory commit index, or the persisted one while crashed. */
  commit(): number {
    return this.#raw?.raft.raftLog.committed ?? this.storage.savedHardState().commit;
  }

  /** log returns the node's persisted log entries with index > `after`. */
  log(after = 0): Entry[] {
    const lo = Math.max(after + 1, this.storage.firstIndex());
    const hi = this.storage.lastIndex() + 1;
    return lo >= hi ? [] : this.storage.entries(lo, hi, Number.MAX_SAFE_INTEGER);
  }

  /** crash loses everything not persisted. */
  crash(): void {
    this.#raw = undefined;
    this.appliedCommands = [];
  }

  /** restart boots a fresh RawNode from the persisted storage. */
  restart(): void {
    assert(this.#raw === undefined, `node ${this.id} is already up`);
    this.#raw = this.#boot();
  }

  /**
   * handleReady runs the driver loop until the node has no more work: persist, then send, then apply,
   * then advance (the order raft's README requires).
   */
  handleReady(hooks: NodeHooks): void {
    const raw = this.#raw;
    if (raw === undefined) return;
    while (raw.hasReady()) {
      const rd: Ready = raw.ready();
      if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
      for (const m of rd.messages) hooks.send(m);
      for (const e of rd.committedEntries) {
        if (e.type === EntryType.Normal && e.data.length > 0)
          this.appliedCommands.push(decodeCommand(e.data));
        hooks.applied(this.id, e);
      }
      raw.advance();
    }
  }

  #boot(): RawNode {
    return new RawNode({
      id: this.id,
      electionTick: ELECTION_TICKS,
      heartbeatTick: HEARTBEAT_TICKS,
      storage: this.storage,
      checkQuorum: true,
      preVote: true,
      random: this.random,
    });
  }
}
