import { decodeConfChange, decodeConfChangeV2 } from "../confchange/codec.js";
import { RaftError } from "../errors.js";
import { RawNode } from "../raw-node.js";
import { MemoryStorage } from "../storage.js";
import { progressStateName } from "../tracker/progress.js";
import type { ConfChangeSingle, ConfChangeTransition, ConfState, Message } from "../types.js";
import {
  ConfChangeType,
  EntryType,
  MessageType,
  newMessage,
  ReadOnlyOption,
  stateTypeName,
} from "../types.js";
import { describeEntry, describeHardState, describeMessage, describeSnapshot } from "./describe.js";

/** Command is one parsed line of a scenario script: a name, positional arguments and key=value pairs. */
export interface Command {
  name: string;
  args: string[];
  kv: Map<string, string>;
}

/** parseCommand splits `name a b key=value key=(x,y)` into a Command. */
export function parseCommand(line: string): Command {
  const tokens = line.match(/\S+=\([^)]*\)|\S+/g) ?? [];
  const [name = "", ...rest] = tokens;
  const args: string[] = [];
  const kv = new Map<string, string>();
  for (const t of rest) {
    const eq = t.indexOf("=");
    if (eq > 0) kv.set(t.slice(0, eq), t.slice(eq + 1).replace(/^\(|\)$/g, ""));
    else args.push(t);
  }
  return { name, args, kv };
}

function ids(s: string | undefined): bigint[] {
  if (s === undefined || s.trim() === "") return [];
  return s
    .split(/[ ,]+/)
    .filter(Boolean)
    .map((x) => BigInt(x));
}

interface EnvNode {
  id: bigint;
  node: RawNode;
  storage: MemoryStorage;
  confState: ConfState;
  applied: number;
}

/**
 * InteractionEnv runs scenario scripts: a set of RawNodes, a message queue per node, and command
 * handlers that print what happened. It is the driver loop of the README, instrumented.
 */
export class InteractionEnv {
  readonly nodes = new Map<bigint, EnvNode>();
  /** Messages sent but not yet delivered, by recipient. */
  readonly inbox = new Map<bigint, Message[]>();
  private readonly cuts = new Set<string>();
  private out: string[] = [];

  /** handle runs one command and returns its output. */
  handle(c: Command): string {
    this.out = [];
    const h = this.handlers[c.name];
    if (h === undefined) throw new Error(`unknown command ${c.name}`);
    try {
      h(c);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.print(`error: ${e.message}`);
    }
    return this.out.join("\n");
  }

  private print(s: string): void {
    this.out.push(s);
  }

  private get(id: bigint): EnvNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private idArgs(c: Command): bigint[] {
    return c.args.length > 0 ? c.args.map((a) => BigInt(a)) : [...this.nodes.keys()];
  }

  private readonly handlers: Record<string, (c: Command) => void> = {
    "add-nodes": (c) => this.addNodes(c),
    campaign: (c) => this.get(BigInt(c.args[0]!)).node.campaign(),
    propose: (c) => this.get(BigInt(c.args[0]!)).node.propose(new TextEncoder().encode(c.args[1] ?? "")),
    "propose-conf-change": (c) => this.proposeConfChange(c),
    "conf-change": (c) => this.proposeConfChange(c),
    "send-snapshot": (c) => {
      // Sends node a's latest storage snapshot to node b directly (as a leader's transport would).
      const from = this.get(BigInt(c.args[0]!));
      const to = BigInt(c.args[1]!);
      const r = from.node.raft;
      const m = newMessage({
        type: MessageType.MsgSnap,
        from: from.id,
        to,
        term: r.term,
        snapshot: from.storage.snapshot(),
      });
      this.inbox.get(to)!.push(m);
      this.print(describeMessage(m));
    },
    tick: (c) => {
      const n = Number(c.kv.get("n") ?? 1);
      for (const id of this.idArgs(c)) for (let i = 0; i < n; i++) this.get(id).node.tick();
    },
    "tick-election": (c) => {
      for (const id of this.idArgs(c)) {
        const r = this.get(id).node.raft;
        for (let i = 0; i < r.randomizedElectionTimeout; i++) r.tick();
      }
    },
    "tick-heartbeat": (c) => {
      for (const id of this.idArgs(c)) {
        const r = this.get(id).node.raft;
        for (let i = 0; i < r.heartbeatTimeout; i++) r.tick();
      }
    },
    "process-ready": (c) => {
      for (const id of this.idArgs(c)) this.processReady(id);
    },
    "deliver-msgs": (c) => {
      for (const id of this.idArgs(c)) this.deliver(id, c.kv.get("drop") === "true");
    },
    stabilize: (c) => this.stabilize(c.args.length > 0 ? c.args.map((a) => BigInt(a)) : undefined),
    "raft-state": () => {
      for (const n of this.nodes.values()) {
        const r = n.node.raft;
        const role = r.trk.progress.get(n.id)?.isLearner
          ? "Learner"
          : r.trk.progress.has(n.id)
            ? "Voter"
            : "NonMember";
        this.print(`${n.id}: ${stateTypeName(r.state)} (${role}) Term:${r.term} Lead:${r.lead}`);
      }
    },
    "raft-log": (c) => {
      const n = this.get(BigInt(c.args[0]!));
      const ents =
        n.storage.lastIndex() >= n.storage.firstIndex()
          ? n.storage.entries(n.storage.firstIndex(), n.storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER)
          : [];
      if (ents.length === 0)
        this.print(
          `log is empty: first index=${n.storage.firstIndex()}, last index=${n.storage.lastIndex()}`,
        );
      for (const e of ents) this.print(describeEntry(e));
    },
    status: (c) => {
      const s = this.get(BigInt(c.args[0]!)).node.status();
      for (const [id, p] of s.progress) {
        let line = `${id}: ${progressStateName(p.state)} match=${p.match} next=${p.next}`;
        if (p.isLearner) line += " learner";
        if (p.pendingSnapshot > 0) line += ` pendingSnap=${p.pendingSnapshot}`;
        if (p.probeSent) line += " paused";
        if (p.inflightCount > 0) line += ` inflight=${p.inflightCount}`;
        this.print(line);
      }
    },
    partition: (c) => {
      // partition a,b / c,d: cut every link across the groups.
      const line = c.args.join(" ");
      const groups = line.split("/").map((g) => ids(g));
      this.cuts.clear();
      for (const g of groups)
        for (const h of groups)
          if (g !== h) for (const a of g) for (const b of h) this.cuts.add(`${a}->${b}`);
    },
    isolate: (c) => {
      const victim = BigInt(c.args[0]!);
      for (const id of this.nodes.keys())
        if (id !== victim) this.cuts.add(`${victim}->${id}`).add(`${id}->${victim}`);
    },
    heal: () => this.cuts.clear(),
    "transfer-leadership": (c) =>
      this.get(BigInt(c.kv.get("from")!)).node.transferLeader(BigInt(c.kv.get("to")!)),
    "read-index": (c) =>
      this.get(BigInt(c.args[0]!)).node.readIndex(new TextEncoder().encode(c.args[1] ?? "")),
    "forget-leader": (c) => this.get(BigInt(c.args[0]!)).node.forgetLeader(),
    "report-unreachable": (c) => this.get(BigInt(c.args[0]!)).node.reportUnreachable(BigInt(c.args[1]!)),
    compact: (c) => {
      const n = this.get(BigInt(c.args[0]!));
      const idx = Number(c.args[1]);
      n.storage.createSnapshot(idx, n.confState, new Uint8Array());
      n.storage.compact(idx);
      this.print(`compacted ${n.id} to ${idx}: first index=${n.storage.firstIndex()}`);
    },
  };

  private addNodes(c: Command): void {
    const count = Number(c.args[0] ?? 1);
    const voters = ids(c.kv.get("voters"));
    const learners = ids(c.kv.get("learners"));
    const index = Number(c.kv.get("index") ?? 0);
    const cs: ConfState = { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
    for (let i = 0; i < count; i++) {
      const id = BigInt(this.nodes.size + 1);
      const storage = new MemoryStorage();
      if (index > 0) {
        storage.applySnapshot({ data: new Uint8Array(), metadata: { index, term: 1, confState: cs } });
        storage.setHardState({ term: 1, vote: 0n, commit: index });
      }
      const node = new RawNode({
        id,
        electionTick: 10,
        heartbeatTick: 1,
        storage,
        applied: index,
        maxSizePerMsg: Number(c.kv.get("max-size-per-msg") ?? Number.MAX_SAFE_INTEGER),
        maxInflightMsgs: Number(c.kv.get("max-inflight") ?? 256),
        checkQuorum: c.kv.get("checkquorum") === "true",
        preVote: c.kv.get("prevote") === "true",
        stepDownOnRemoval: c.kv.get("step-down-on-removal") === "true",
        readOnlyOption: c.kv.get("read-only") === "lease" ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
        random: () => 0,
      });
      this.nodes.set(id, {
        id,
        node,
        storage,
        confState: index > 0 ? cs : storage.initialState().confState,
        applied: index,
      });
      this.inbox.set(id, []);
      const st = node.status();
      this.print(
        `node ${id}: term ${st.hardState.term}, commit ${st.hardState.commit}, applied ${st.applied}, first index ${storage.firstIndex()}, last index ${storage.lastIndex()}`,
      );
    }
  }

  private proposeConfChange(c: Command): void {
    const n = this.get(BigInt(c.args[0]!));
    const changes: ConfChangeSingle[] = c.args.slice(1).map((t) => {
      const kind = t[0];
      const nodeId = BigInt(t.slice(1));
      const type =
        kind === "v"
          ? ConfChangeType.AddNode
          : kind === "l"
            ? ConfChangeType.AddLearnerNode
            : kind === "r"
              ? ConfChangeType.RemoveNode
              : ConfChangeType.UpdateNode;
      return { type, nodeId };
    });
    if (c.kv.get("v1") === "true") {
      const ch = changes[0]!;
      n.node.proposeConfChange({ id: 0n, type: ch.type, nodeId: ch.nodeId, context: new Uint8Array() });
      return;
    }
    const transition = ({ auto: 0, implicit: 1, explicit: 2 } as Record<string, ConfChangeTransition>)[
      c.kv.get("transition") ?? "auto"
    ]!;
    n.node.proposeConfChange({ transition, changes, context: new Uint8Array() });
  }

  /** processReady is the driver loop: persist, send, apply, advance; printing each part. */
  private processReady(id: bigint): boolean {
    const n = this.get(id);
    if (!n.node.hasReady()) return false;
    const rd = n.node.ready();
    this.print(`> ${id} handling Ready`);
    if (rd.softState)
      this.print(`  Lead:${rd.softState.lead} State:${stateTypeName(rd.softState.raftState)}`);
    if (rd.hardState) this.print(`  HardState ${describeHardState(rd.hardState)}`);
    if (rd.snapshot) this.print(`  Snapshot ${describeSnapshot(rd.snapshot)}`);
    if (rd.entries.length > 0) {
      this.print("  Entries:");
      for (const e of rd.entries) this.print(`  ${describeEntry(e)}`);
    }
    if (rd.committedEntries.length > 0) {
      this.print("  CommittedEntries:");
      for (const e of rd.committedEntries) this.print(`  ${describeEntry(e)}`);
    }
    if (rd.messages.length > 0) {
      this.print("  Messages:");
      for (const m of rd.messages) this.print(`  ${describeMessage(m)}`);
    }
    for (const rs of rd.readStates)
      this.print(
        `  ReadState Index:${rs.index} Ctx:${JSON.stringify(new TextDecoder().decode(rs.requestCtx))}`,
      );
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.confState = rd.snapshot.metadata.confState;
      n.applied = rd.snapshot.metadata.index;
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    for (const m of rd.messages) {
      if (this.cuts.has(`${m.from}->${m.to}`) || !this.inbox.has(m.to)) continue;
      this.inbox.get(m.to)!.push(m);
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange || e.type === EntryType.ConfChangeV2) {
        const cc = e.type === EntryType.ConfChange ? decodeConfChange(e.data) : decodeConfChangeV2(e.data);
        n.confState = n.node.applyConfChange(cc);
        this.print(`  INFO ${id} switched to configuration ${n.node.raft.trk.config}`);
      }
      n.applied = e.index;
    }
    n.node.advance();
    return true;
  }

  private deliver(id: bigint, drop: boolean): boolean {
    const q = this.inbox.get(id)!;
    if (q.length === 0) return false;
    this.inbox.set(id, []);
    for (const m of q) {
      if (drop) {
        this.print(`dropped: ${describeMessage(m)}`);
        continue;
      }
      this.print(describeMessage(m));
      const from = this.nodes.get(m.from);
      try {
        this.get(id).node.step(m);
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
        this.print(`  error: ${e.message}`);
      }
      // The transport reports a delivered snapshot to its sender.
      if (m.snapshot !== undefined && from !== undefined) from.node.reportSnapshot(id, "finish");
    }
    return true;
  }

  private stabilize(only: bigint[] | undefined): void {
    const set = only ?? [...this.nodes.keys()];
    for (let round = 0; round < 1000; round++) {
      let done = true;
      for (const id of set) if (this.processReady(id)) done = false;
      for (const id of set) {
        if (this.inbox.get(id)!.length > 0) {
          this.print(`> ${id} receiving messages`);
          this.deliver(id, false);
          done = false;
        }
      }
      if (done) return;
    }
    throw new Error("stabilize did not converge");
  }
}
