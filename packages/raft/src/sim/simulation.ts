import { decodeConfChange, decodeConfChangeV2 } from "../confchange/codec.js";
import type { TestingKnobs } from "../config.js";
import { ProposalDroppedError, RaftError } from "../errors.js";
import { RawNode } from "../raw-node.js";
import { coalesceMessages, messagesBeforePersist, type Ready } from "../ready.js";
import { cloneConfState, MemoryStorage } from "../storage.js";
import type { ConfChange, ConfChangeV2, ConfState, Entry, HardState, Message } from "../types.js";
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  messageTypeName,
  NONE,
  StateType,
} from "../types.js";
import { Rng } from "./rng.js";

/** SimOptions selects the size, length and planted bugs of one simulated run. */
export interface SimOptions {
  seed: number;
  /**
   * Initial number of voters (3 or 5; or 1, which starts two learners beside the voter: the cluster an
   * operator grows with `member add --learner`).
   */
  nodes: number;
  /** Planted bug in the driver: a leader's early sends ignore the commit rule of messagesBeforePersist. */
  earlySendIgnoringCommit?: boolean;
  /** Number of random events before the network heals and liveness is checked (default 3000; 10000 if hostile). */
  events?: number;
  /** Planted bugs inside raft. */
  knobs?: TestingKnobs;
  /** Planted bug in the driver: send messages before persisting the Ready. */
  sendBeforePersist?: boolean;
  /** Propose membership changes during the run (default true). */
  membership?: boolean;
  /** Take snapshots and compact logs during the run (default true). */
  snapshots?: boolean;
  /** Always use the most hostile fault profile and one entry per message (finds subtle bugs sooner). */
  hostile?: boolean;
  /** The driver merges what it sends with `coalesceMessages` (as etcd-ts's server does). */
  coalesce?: boolean;
  /** Record a trace of events (for debugging a failing seed). */
  trace?: boolean;
}

/** SimResult reports a run: `error` is set (with the seed in its message) if a check failed. */
export interface SimResult {
  seed: number;
  error: string | undefined;
  committed: number;
  leaders: number;
  trace: string[];
}

/** SimFailure is a safety or liveness violation found by the checker. */
export class SimFailure extends Error {
  override name = "SimFailure";
}

interface InFlight {
  msg: Message;
  deliverAt: number;
}

/** The durable part of a node: what survives a crash. */
interface Disk {
  storage: MemoryStorage;
  applied: number;
  /** Hash of the state machine after applying `applied`. */
  hash: number;
  confState: ConfState;
}

interface SimNode {
  id: bigint;
  disk: Disk;
  node: RawNode | undefined;
  /** Highest term/commit seen while up (reset on restart: unpersisted term may be lost). */
  term: number;
  commit: number;
  /** Whether this node was ever removed from the configuration (it stays down then). */
  removed: boolean;
  /** When a crashed node restarts (in ticks). */
  restartAt: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function mix(h: number, x: number): number {
  let v = (h ^ x) >>> 0;
  v = Math.imul(v ^ (v >>> 16), 0x45d9f3b) >>> 0;
  v = Math.imul(v ^ (v >>> 16), 0x45d9f3b) >>> 0;
  return (v ^ (v >>> 16)) >>> 0;
}

function hashBytes(h: number, b: Uint8Array): number {
  let v = mix(h, b.byteLength);
  for (const x of b) v = mix(v, x);
  return v;
}

function entryHash(prev: number, e: Entry): number {
  return hashBytes(mix(mix(mix(prev, e.index), e.term), e.type), e.data);
}

function entryKey(e: Entry): string {
  return `${e.term}/${e.type}/${hashBytes(0, e.data)}`;
}

/**
 * Simulation runs N raft nodes over a simulated network and disk, all randomness drawn from one seed:
 * messages are dropped, duplicated, delayed and reordered; the network partitions (symmetric,
 * asymmetric, isolated leader); nodes crash (losing everything not persisted from a Ready) and
 * restart; membership changes and snapshots happen under faults; clients propose throughout. After
 * every event the safety checks run; at the end the faults heal and liveness is checked.
 */
export class Simulation {
  readonly rng: Rng;
  readonly opts: Required<Omit<SimOptions, "knobs">> & { knobs: TestingKnobs };
  readonly nodes = new Map<bigint, SimNode>();
  private queue: InFlight[] = [];
  now = 0;
  private cut = new Set<string>();
  private dropRate = 0;
  private dupRate = 0;
  private maxDelay = 2;
  private proposals = 0;
  readonly trace: string[] = [];
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  private readonly stepDownOnRemoval: boolean;
  /** Fault rates: crashRate and networkRate per tick, midReadyCrash per Ready of a leader with new entries. */
  private readonly profile: {
    proposeRate: number;
    crashRate: number;
    networkRate: number;
    midReadyCrash: number;
    /** Chance that a leader sends its appends/heartbeats before persisting a Ready (allowed). */
    leaderEarlySend: number;
  };
  private readonly maxSizePerMsg: number;
  private readonly maxInflight: number;
  /** Uncommitted-bytes limit of leaders (0 = unbounded); small values make leaders drop proposals. */
  private readonly maxUncommitted: number;
  private nextId: bigint;

  // Checker state.
  /** index -> identity of the committed entry. */
  private readonly committedAt = new Map<number, string>();
  /** index -> lowest term of a node that had it committed (leader completeness applies above it). */
  private readonly commitTermAt = new Map<number, number>();
  /** index -> state machine hash after applying it. */
  private readonly appliedHashAt = new Map<number, number>();
  /** term -> leader id. */
  private readonly leaderOf = new Map<number, bigint>();
  /** "index/term" -> "prevTerm/data" identity: log matching. */
  private readonly entryAt = new Map<string, string>();
  private readonly knownLeaders = new Set<string>();
  private maxCommitted = 0;
  private markerApplied = false;
  /** Set once the faults are healed for the liveness check: no more faults are injected. */
  private healed = false;
  private reads = 0;
  /** Read context -> highest commit index of any node when the read was issued. */
  private readonly pendingReads = new Map<string, number>();
  /** Number of reads answered (and checked). */
  readsChecked = 0;

  constructor(options: SimOptions) {
    this.opts = {
      events: options.hostile ? 10000 : 3000,
      membership: true,
      snapshots: true,
      trace: false,
      hostile: false,
      sendBeforePersist: false,
      earlySendIgnoringCommit: false,
      coalesce: false,
      ...options,
      knobs: options.knobs ?? {},
    };
    this.rng = new Rng(options.seed);
    this.checkQuorum = this.rng.chance(0.5);
    this.preVote = this.rng.chance(0.5);
    this.stepDownOnRemoval = this.rng.chance(0.5);
    this.maxSizePerMsg = this.rng.pick([0, 0, 64, 1024, Number.MAX_SAFE_INTEGER]);
    this.maxInflight = this.rng.pick([1, 4, 256]);
    this.maxUncommitted = this.rng.pick([0, 64, 1 << 16]);
    // Each seed draws a fault profile, from calm to very hostile.
    this.profile = this.opts.hostile
      ? { proposeRate: 0.15, crashRate: 0.3, networkRate: 0.2, midReadyCrash: 0.2, leaderEarlySend: 0.5 }
      : {
          proposeRate: this.rng.pick([0.02, 0.08, 0.15]),
          crashRate: this.rng.pick([0.005, 0.02, 0.05]),
          networkRate: this.rng.pick([0.005, 0.02, 0.05]),
          midReadyCrash: this.rng.pick([0.002, 0.01, 0.05]),
          leaderEarlySend: this.rng.pick([0, 0.5]),
        };
    if (this.opts.hostile) this.maxSizePerMsg = 0;
    const voters: bigint[] = [];
    for (let i = 1; i <= options.nodes; i++) voters.push(BigInt(i));
    this.nextId = BigInt(options.nodes + 1);
    const learners: bigint[] = [];
    if (options.nodes === 1) for (let i = 0; i < 2; i++) learners.push(this.nextId++);
    const cs: ConfState = { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
    for (const id of [...voters, ...learners]) this.addNode(id, cs);
    this.appliedHashAt.set(1, 0);
  }

  /**
   * addNode creates a node. Initial members start from a snapshot at index 1 holding the initial
   * configuration (so that nodes added later catch up through a snapshot, as in etcd); added nodes
   * start empty.
   */
  private addNode(id: bigint, cs: ConfState | undefined): void {
    const storage = new MemoryStorage();
    let applied = 0;
    if (cs !== undefined) {
      storage.applySnapshot({
        data: enc.encode(JSON.stringify({ hash: 0 })),
        metadata: { index: 1, term: 1, confState: cloneConfState(cs) },
      });
      storage.setHardState({ term: 1, vote: NONE, commit: 1 });
      applied = 1;
    }
    const disk: Disk = {
      storage,
      applied,
      hash: 0,
      confState: cs
        ? cloneConfState(cs)
        : { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
    };
    const n: SimNode = { id, disk, node: undefined, term: 0, commit: 0, removed: false, restartAt: 0 };
    this.nodes.set(id, n);
    this.start(n);
  }

  private start(n: SimNode): void {
    const snap = n.disk.storage.snapshot();
    if (snap.metadata.index > n.disk.applied) {
      // Crashed after persisting a snapshot but before applying it: recover the state machine from it.
      n.disk.applied = snap.metadata.index;
      n.disk.hash = (JSON.parse(dec.decode(snap.data)) as { hash: number }).hash;
      n.disk.confState = cloneConfState(snap.metadata.confState);
    }
    n.node = new RawNode({
      id: n.id,
      electionTick: 10,
      heartbeatTick: 1,
      storage: n.disk.storage,
      applied: n.disk.applied,
      maxSizePerMsg: this.maxSizePerMsg,
      maxInflightMsgs: this.maxInflight,
      maxUncommittedEntriesSize: this.maxUncommitted,
      checkQuorum: this.checkQuorum,
      preVote: this.preVote,
      stepDownOnRemoval: this.stepDownOnRemoval,
      random: (k) => this.rng.int(k),
      testingKnobs: this.opts.knobs,
    });
    const hs = n.disk.storage.savedHardState();
    n.term = hs.term;
    n.commit = hs.commit;
  }

  private log(s: string): void {
    if (this.opts.trace) this.trace.push(`[${this.now}] ${s}`);
  }

  private fail(msg: string): never {
    throw new SimFailure(
      `seed ${this.opts.seed} (nodes=${this.opts.nodes}): ${msg}\n  replay: pnpm --filter @etcd-ts/raft sim -- --seeds 1 --start ${this.opts.seed} --nodes ${this.opts.nodes}${this.opts.hostile ? " --hostile" : ""} --events ${this.opts.events} --trace`,
    );
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.node !== undefined);
  }

  // ------------------------------------------------------------------ events

  /** run executes the random events, then heals everything and checks liveness. */
  run(): SimResult {
    try {
      for (let i = 0; i < this.opts.events; i++) {
        this.randomEvent();
        this.check();
      }
      this.healAndCheckLiveness();
    } catch (e) {
      const msg =
        e instanceof SimFailure
          ? e.message
          : `seed ${this.opts.seed} (nodes=${this.opts.nodes}): unexpected ${(e as Error).stack}`;
      return {
        seed: this.opts.seed,
        error: msg,
        committed: this.maxCommitted,
        leaders: this.leaderOf.size,
        trace: this.trace,
      };
    }
    return {
      seed: this.opts.seed,
      error: undefined,
      committed: this.maxCommitted,
      leaders: this.leaderOf.size,
      trace: this.trace,
    };
  }

  private randomEvent(): void {
    const p = this.profile;
    const table: [number, () => void][] = [
      [0.07, () => this.tickAll()],
      [0.01, () => this.tickOne()],
      [0.45, () => this.deliverOne()],
      [0.28, () => this.processReadyRandom()],
      [p.proposeRate, () => this.propose()],
      [this.opts.snapshots ? 0.01 : 0, () => this.snapshotAndCompact()],
      [this.opts.membership ? 0.004 : 0, () => this.changeMembership()],
      [0.002, () => this.transferLeader()],
      [0.01, () => this.readIndex()],
      [0.02, () => this.processAllReadies()],
    ];
    let total = 0;
    for (const [w] of table) total += w;
    let r = this.rng.next() * total;
    for (const [w, f] of table) {
      r -= w;
      if (r < 0) {
        f();
        return;
      }
    }
  }

  tickAll(): void {
    this.now++;
    // Faults are drawn per tick, so their rate is relative to the election timeout (10..19 ticks).
    if (!this.healed && this.rng.chance(this.profile.crashRate)) this.crashOrRestart();
    if (!this.healed && this.rng.chance(this.profile.networkRate)) this.changeNetwork();
    for (const n of this.nodes.values()) {
      if (n.node === undefined && !n.removed && n.restartAt <= this.now) {
        this.log(`restart ${n.id}`);
        this.start(n);
      }
    }
    // Tick in a random order: with a fixed order, the first node would win every tie of two timeouts.
    const live = this.live();
    for (let i = live.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [live[i], live[j]] = [live[j]!, live[i]!];
    }
    for (const n of live) n.node!.tick();
    this.log("tick");
  }

  private tickOne(): void {
    const live = this.live();
    if (live.length === 0) return;
    this.rng.pick(live).node!.tick();
  }

  private deliverOne(): void {
    const ready = this.queue.filter((f) => f.deliverAt <= this.now);
    if (ready.length === 0) return;
    const f = this.rng.pick(ready);
    this.queue.splice(this.queue.indexOf(f), 1);
    this.deliver(f.msg);
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    const from = this.nodes.get(m.from);
    const blocked = this.cut.has(`${m.from}->${m.to}`);
    const lost = blocked || to?.node === undefined || this.rng.chance(this.dropRate);
    if (m.type === MessageType.MsgSnap && from?.node !== undefined) {
      // The transport reports the outcome of a snapshot send to the sender.
      from.node.reportSnapshot(m.to, lost ? "failure" : "finish");
    }
    if (lost) {
      if (from?.node !== undefined && this.rng.chance(0.3)) from.node.reportUnreachable(m.to);
      return;
    }
    this.log(
      `deliver ${messageTypeName(m.type)} ${m.from}->${m.to} t${m.term} i${m.index} lt${m.logTerm} n${m.entries.length} c${m.commit}${m.reject ? " rej" : ""}`,
    );
    try {
      to!.node!.step(m);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
    }
  }

  /** send puts a message on the network, maybe twice (duplication), each copy with its own delay. */
  /** outgoing is what the driver sends of `messages`: merged when the run coalesces. */
  private outgoing(messages: Message[]): Message[] {
    return this.opts.coalesce ? coalesceMessages(messages, this.maxSizePerMsg) : messages;
  }

  private send(m: Message): void {
    if (this.rng.chance(this.dupRate))
      this.queue.push({ msg: m, deliverAt: this.now + this.rng.int(this.maxDelay + 1) });
    this.queue.push({ msg: m, deliverAt: this.now + this.rng.int(this.maxDelay + 1) });
  }

  private processReadyRandom(): void {
    const cands = this.live().filter((n) => n.node!.hasReady());
    if (cands.length === 0) return;
    this.processReady(this.rng.pick(cands), true);
  }

  private processAllReadies(): void {
    for (const n of this.live()) if (n.node!.hasReady()) this.processReady(n, false);
  }

  /** processReady runs the driver loop once: persist, send, apply, advance (maybe crashing midway). */
  private processReady(n: SimNode, mayCrash: boolean): void {
    const node = n.node!;
    const rd = node.ready();
    if (this.opts.sendBeforePersist) {
      for (const m of rd.messages) {
        this.checkPersistedBeforeSend(n, m);
        this.send(m);
      }
      if (mayCrash && this.rng.chance(0.05)) {
        this.crash(n, "after send, before persist");
        return;
      }
    }
    // A leader may send its replication messages in parallel with its own disk write (etcd does): they
    // promise nothing about the leader's disk. Everything else (acks, votes) still waits for the write.
    let early = new Set<Message>();
    if (!this.opts.sendBeforePersist && this.rng.chance(this.profile.leaderEarlySend)) {
      // The planted bug hides the Ready's new entries from the commit rule.
      const judged = this.opts.earlySendIgnoringCommit ? { ...rd, entries: [] } : rd;
      early = new Set(messagesBeforePersist(judged, node.raft.state, n.disk.storage.savedHardState()));
      for (const m of this.outgoing([...early])) this.send(m);
      if (mayCrash && early.size > 0 && this.rng.chance(this.profile.midReadyCrash)) {
        this.crash(n, "leader sent appends, then crashed before persisting");
        return;
      }
    }
    // A torn write: the WAL got the snapshot and entries but the crash came before the hard state.
    if (mayCrash && this.rng.chance(0.002)) {
      this.persist(n, { ...rd, hardState: undefined });
      this.crash(n, "torn write: entries persisted, hard state lost");
      return;
    }
    this.persist(n, rd);
    // Crashing a leader right after it persisted new entries, before sending them, strands entries of
    // its term on a minority: the raw material of the subtle commit-rule bugs (Figure 8 of the paper).
    const crashChance =
      rd.entries.length > 0 && node.raft.state === StateType.Leader ? this.profile.midReadyCrash : 0.002;
    if (mayCrash && this.rng.chance(crashChance)) {
      this.crash(n, "after persist, before send");
      return;
    }
    if (!this.opts.sendBeforePersist) {
      for (const m of this.outgoing(rd.messages.filter((m) => !early.has(m)))) {
        this.checkPersistedBeforeSend(n, m);
        this.send(m);
      }
    }
    this.apply(n, rd);
    node.advance();
    if (n.removed) {
      // Like etcd, a member that applied its own removal shuts down for good.
      this.log(`node ${n.id} removed, shutting down`);
      n.node = undefined;
    }
  }

  private persist(n: SimNode, rd: Ready): void {
    const st = n.disk.storage;
    if (rd.snapshot !== undefined) st.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      st.append(rd.entries);
      // Log matching: an (index, term) pair identifies the entry and everything before it.
      for (const e of rd.entries) {
        let prevTerm: number;
        try {
          prevTerm = st.term(e.index - 1);
        } catch {
          continue;
        }
        const key = `${e.index}/${e.term}`;
        const id = `${prevTerm}/${entryKey(e)}`;
        const seen = this.entryAt.get(key);
        if (seen === undefined) this.entryAt.set(key, id);
        else if (seen !== id) this.fail(`log matching violated at ${key} on node ${n.id}: ${seen} vs ${id}`);
      }
    }
    if (rd.hardState !== undefined) {
      const old = st.savedHardState();
      if (rd.hardState.term < old.term)
        this.fail(`node ${n.id} persisted term went back ${old.term} -> ${rd.hardState.term}`);
      if (rd.hardState.commit < old.commit) {
        this.fail(`node ${n.id} persisted commit went back ${old.commit} -> ${rd.hardState.commit}`);
      }
      st.setHardState(rd.hardState);
    }
  }

  /** A message that promises durable state may only leave once that state is on disk. */
  private checkPersistedBeforeSend(n: SimNode, m: Message): void {
    const st = n.disk.storage;
    const hs: HardState = st.savedHardState();
    if (m.type === MessageType.MsgAppResp && !m.reject) {
      // The ack promises entries up to m.index are durable, unless a leader of a later term has since
      // replaced them (then the persisted term is higher, and the old leader's term is over).
      if (hs.term === m.term && st.lastIndex() < m.index) {
        this.fail(`node ${n.id} acked index ${m.index} but persisted only up to ${st.lastIndex()}`);
      }
    }
    if (m.type === MessageType.MsgVoteResp && !m.reject) {
      // The grant may have been superseded by a later term in the same Ready: then the persisted
      // higher term already forbids voting again in m.term, which is what the grant relies on.
      if (hs.term < m.term || (hs.term === m.term && hs.vote !== m.to)) {
        this.fail(
          `node ${n.id} granted vote to ${m.to} in term ${m.term} but persisted term ${hs.term} vote ${hs.vote}`,
        );
      }
    }
  }

  private apply(n: SimNode, rd: Ready): void {
    const d = n.disk;
    for (const rs of rd.readStates) {
      const ctx = dec.decode(rs.requestCtx);
      const floor = this.pendingReads.get(ctx);
      if (floor === undefined) continue;
      if (rs.index < floor) {
        this.fail(
          `linearizability: read ${ctx} on node ${n.id} got index ${rs.index}, but ${floor} was committed before it started`,
        );
      }
      this.readsChecked++;
    }
    if (rd.snapshot !== undefined) {
      const s = rd.snapshot;
      const parsed = JSON.parse(dec.decode(s.data)) as { hash: number };
      d.applied = s.metadata.index;
      d.hash = parsed.hash;
      d.confState = cloneConfState(s.metadata.confState);
      this.checkApplied(n, d.applied, d.hash);
    }
    for (const e of rd.committedEntries) {
      if (e.index <= d.applied) this.fail(`node ${n.id} re-applied entry ${e.index} (applied ${d.applied})`);
      if (e.index !== d.applied + 1) this.fail(`node ${n.id} applied ${e.index} after ${d.applied}: gap`);
      if (e.type === EntryType.ConfChange || e.type === EntryType.ConfChangeV2) {
        const cc = e.type === EntryType.ConfChange ? decodeConfChange(e.data) : decodeConfChangeV2(e.data);
        d.confState = n.node!.applyConfChange(cc);
        this.log(
          `node ${n.id} applied conf change at ${e.index}: voters=${d.confState.voters} out=${d.confState.votersOutgoing} learners=${d.confState.learners}`,
        );
        this.onConfApplied(n, d.confState);
      }
      d.applied = e.index;
      d.hash = entryHash(d.hash, e);
      if (dec.decode(e.data) === `liveness-${this.opts.seed}`) this.markerApplied = true;
      this.checkApplied(n, e.index, d.hash);
      if (e.type !== EntryType.Normal && e.index > n.disk.storage.snapshot().metadata.index) {
        // Snapshot right after a membership change, so that a node it added can be caught up from a
        // snapshot that includes it (raft refuses snapshots whose ConfState does not).
        n.disk.storage.createSnapshot(e.index, d.confState, enc.encode(JSON.stringify({ hash: d.hash })));
      }
    }
  }

  private checkApplied(n: SimNode, index: number, hash: number): void {
    const seen = this.appliedHashAt.get(index);
    if (seen === undefined) this.appliedHashAt.set(index, hash);
    else if (seen !== hash)
      this.fail(`state machine safety: node ${n.id} applied a different history at ${index}`);
  }

  private crash(n: SimNode, why: string): void {
    this.log(`crash ${n.id} (${why})`);
    n.node = undefined;
    // A crashed node comes back after a random downtime (a few ticks to a few election timeouts).
    n.restartAt = this.now + 1 + this.rng.int(this.opts.hostile ? 15 : 60);
  }

  private crashOrRestart(): void {
    const down = [...this.nodes.values()].filter((n) => n.node === undefined && !n.removed);
    const live = this.live();
    // Keep at most a minority down most of the time, but allow everything to go down occasionally.
    if (down.length > 0 && (this.rng.chance(0.6) || live.length <= this.nodes.size / 2)) {
      const n = this.rng.pick(down);
      this.log(`restart ${n.id}`);
      this.start(n);
      return;
    }
    if (live.length === 0) return;
    // Leaders are the interesting victims (uncommitted entries of their term get stranded).
    const leader = this.leader();
    const r = this.rng.next();
    if (leader !== undefined && r < 0.4) this.crash(leader, "leader");
    else if (r < 0.7) {
      // Crash the node with the most up-to-date log, so that stale nodes get to lead.
      const key = (n: SimNode) => {
        const l = n.node!.raft.raftLog;
        return l.lastTerm() * 1e9 + l.lastIndex();
      };
      const best = live.reduce((a, b) => (key(b) > key(a) ? b : a));
      this.crash(best, "most up-to-date");
    } else this.crash(this.rng.pick(live), "random");
  }

  private changeNetwork(): void {
    const ids = [...this.nodes.keys()];
    const r = this.rng.next();
    this.cut = new Set();
    if (r < 0.3) {
      this.log("heal network");
      this.dropRate = this.rng.pick([0, 0, 0.05]);
    } else if (r < 0.5) {
      // Symmetric partition into two random sides.
      const side = new Set(ids.filter(() => this.rng.chance(0.5)));
      for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) this.cut.add(`${a}->${b}`);
      this.log(`partition ${[...side]} | rest`);
    } else if (r < 0.65) {
      // Isolate the leader (if any).
      const leader = this.live().find((n) => n.node!.raft.state === StateType.Leader);
      const victim = leader?.id ?? this.rng.pick(ids);
      for (const b of ids) if (b !== victim) this.cut.add(`${victim}->${b}`).add(`${b}->${victim}`);
      this.log(`isolate ${victim}`);
    } else if (r < 0.8) {
      // Asymmetric: some one-way links fail.
      for (const a of ids)
        for (const b of ids) if (a !== b && this.rng.chance(0.3)) this.cut.add(`${a}->${b}`);
      this.log("asymmetric cuts");
    } else {
      this.dropRate = this.rng.pick([0, 0.1, 0.3]);
      this.dupRate = this.rng.pick([0, 0.05, 0.2]);
      this.maxDelay = this.rng.pick([0, 2, 5]);
      this.log(`lossy drop=${this.dropRate} dup=${this.dupRate} delay=${this.maxDelay}`);
    }
  }

  /**
   * readIndex issues a linearizable read on a random node. Linearizability requires the answer to cover
   * every write committed before the read started, so the highest commit index of any node now is
   * recorded and checked when the ReadState comes back.
   */
  private readIndex(): void {
    const live = this.live();
    if (live.length === 0) return;
    const n = this.rng.pick(live);
    const ctx = `r${this.reads++}`;
    this.pendingReads.set(ctx, this.maxCommitted);
    try {
      n.node!.readIndex(enc.encode(ctx));
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  private propose(): void {
    const live = this.live();
    if (live.length === 0) return;
    const n = this.rng.pick(live);
    const data = enc.encode(`p${this.opts.seed}-${this.proposals++}`);
    try {
      n.node!.propose(data);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  private snapshotAndCompact(): void {
    const live = this.live();
    if (live.length === 0) return;
    const n = this.rng.pick(live);
    const st = n.disk.storage;
    const d = n.disk;
    if (d.applied <= st.snapshot().metadata.index) return;
    const data = enc.encode(JSON.stringify({ hash: d.hash }));
    st.createSnapshot(d.applied, d.confState, data);
    const keep = this.rng.int(5);
    const compactTo = d.applied - keep;
    if (compactTo > st.firstIndex()) st.compact(compactTo);
    this.log(`node ${n.id} snapshot at ${d.applied}, compact to ${compactTo}`);
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      const r = n.node!.raft;
      if (r.state === StateType.Leader && (best === undefined || r.term > best.node!.raft.term)) best = n;
    }
    return best;
  }

  private changeMembership(): void {
    const l = this.leader();
    if (l === undefined) return;
    const cs = l.node!.raft.trk.confState();
    if (cs.votersOutgoing.length > 0) return;
    const members = [...cs.voters, ...cs.learners];
    const r = this.rng.next();
    let cc: ConfChangeV2;
    if (r < 0.25 && members.length < 7) {
      const id = this.nextId++;
      this.addNode(id, undefined);
      // A new node knows nothing until the leader sends it a snapshot or the log.
      cc = single(ConfChangeType.AddLearnerNode, id);
    } else if (r < 0.5 && cs.learners.length > 0) {
      cc = single(ConfChangeType.AddNode, this.rng.pick(cs.learners));
    } else if (r < 0.65 && cs.voters.length > 3) {
      cc = single(ConfChangeType.RemoveNode, this.rng.pick(cs.voters));
    } else if (r < 0.8 && cs.voters.length >= 3) {
      cc = single(ConfChangeType.AddLearnerNode, this.rng.pick(cs.voters));
    } else if (cs.learners.length > 0 && cs.voters.length >= 3) {
      // Joint consensus: swap a voter and a learner at once.
      const inId = this.rng.pick(cs.learners);
      const outId = this.rng.pick(cs.voters);
      cc = {
        transition: this.rng.pick([ConfChangeTransition.Auto, ConfChangeTransition.JointImplicit]),
        changes: [
          { type: ConfChangeType.AddNode, nodeId: inId },
          { type: ConfChangeType.AddLearnerNode, nodeId: outId },
        ],
        context: new Uint8Array(0),
      };
    } else {
      return;
    }
    this.log(`propose conf change ${JSON.stringify(cc.changes.map((c) => [c.type, String(c.nodeId)]))}`);
    try {
      // Single changes go out as v1 ConfChange half of the time (both encodings must work).
      const v1 = this.rng.chance(0.5) ? asV1(cc) : undefined;
      l.node!.proposeConfChange(v1 ?? cc);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  /** Nodes that left the configuration for good are shut down once the change is applied somewhere. */
  private onConfApplied(n: SimNode, cs: ConfState): void {
    const member = [cs.voters, cs.learners, cs.votersOutgoing].some((ids) => ids.includes(n.id));
    if (!member) n.removed = true;
  }

  private transferLeader(): void {
    const l = this.leader();
    if (l === undefined) return;
    const voters = l.node!.raft.trk.confState().voters.filter((id) => id !== l.id);
    if (voters.length === 0) return;
    const to = this.rng.pick(voters);
    this.log(`transfer leader ${l.id} -> ${to}`);
    l.node!.transferLeader(to);
  }

  // ------------------------------------------------------------------ checks

  /** check runs the safety invariants over the current state of every node. */
  check(): void {
    for (const n of this.live()) {
      const r = n.node!.raft;
      if (r.term < n.term) this.fail(`node ${n.id} term went back ${n.term} -> ${r.term}`);
      n.term = r.term;
      // A leader counts its own copy toward the quorum as soon as it appends (a single voter commits an
      // entry in memory before writing it), and a crash loses what was not written before anyone could
      // know. What must never change is what is committed and written on some node.
      const committed = Math.min(r.raftLog.committed, n.disk.storage.lastIndex());
      if (committed < n.commit) this.fail(`node ${n.id} commit went back ${n.commit} -> ${committed}`);
      if (committed > r.raftLog.lastIndex()) this.fail(`node ${n.id} commit ${committed} beyond last index`);
      // Committed entries never change: compare everything newly committed, and the commit point itself.
      const first = r.raftLog.firstIndex();
      const newlyCommitted: number[] = [];
      for (let i = Math.max(n.commit + 1, first); i <= committed; i++) newlyCommitted.push(i);
      if (committed >= first && committed > 0) newlyCommitted.push(committed);
      for (const i of newlyCommitted) {
        const e = r.raftLog.slice(i, i + 1, Number.MAX_SAFE_INTEGER)[0]!;
        const key = entryKey(e);
        const seen = this.committedAt.get(i);
        if (seen === undefined) this.committedAt.set(i, key);
        else if (seen !== key) this.fail(`committed entry ${i} differs on node ${n.id}: ${seen} vs ${key}`);
        const ct = this.commitTermAt.get(i);
        if (ct === undefined || r.term < ct) {
          this.commitTermAt.set(i, r.term);
          this.checkLeadersContain(i);
        }
      }
      n.commit = committed;
      if (committed > this.maxCommitted) this.maxCommitted = committed;
      if (r.state === StateType.Leader) {
        const prev = this.leaderOf.get(r.term);
        if (prev !== undefined && prev !== n.id)
          this.fail(`two leaders in term ${r.term}: ${prev} and ${n.id}`);
        this.leaderOf.set(r.term, n.id);
        const k = `${n.id}/${r.term}`;
        if (!this.knownLeaders.has(k)) {
          this.knownLeaders.add(k);
          // Leader completeness: a new leader holds every entry committed in an earlier term.
          for (const [i, ct] of this.commitTermAt) if (ct < r.term) this.checkLeaderContains(n, i);
        }
      }
    }
  }

  private checkLeadersContain(i: number): void {
    const ct = this.commitTermAt.get(i)!;
    for (const n of this.live()) {
      const r = n.node!.raft;
      if (r.state === StateType.Leader && r.term > ct) this.checkLeaderContains(n, i);
    }
  }

  private checkLeaderContains(n: SimNode, i: number): void {
    const r = n.node!.raft;
    if (i < r.raftLog.firstIndex()) return; // compacted: it is in the leader's snapshot, committed.
    const want = this.committedAt.get(i)!;
    if (i > r.raftLog.lastIndex()) {
      this.fail(`leader completeness: leader ${n.id} of term ${r.term} lacks committed entry ${i}`);
    }
    const e = r.raftLog.slice(i, i + 1, Number.MAX_SAFE_INTEGER)[0]!;
    if (entryKey(e) !== want) {
      this.fail(
        `leader completeness: leader ${n.id} of term ${r.term} has ${entryKey(e)} at ${i}, committed ${want}`,
      );
    }
  }

  // ------------------------------------------------------------------ liveness

  private healAndCheckLiveness(): void {
    this.log("=== heal");
    this.healed = true;
    this.cut = new Set();
    this.dropRate = 0;
    this.dupRate = 0;
    this.maxDelay = 0;
    for (const n of this.nodes.values()) if (n.node === undefined && !n.removed) this.start(n);
    // Without PreVote, two candidates with diverging views of the configuration can keep stealing each
    // other's terms; randomized timeouts break that only probabilistically, so allow a generous bound.
    const bound = 1000;
    const marker = `liveness-${this.opts.seed}`;
    let proposedAt = -1;
    for (let t = 0; t < bound; t++) {
      this.tickAll();
      for (let round = 0; round < 20; round++) {
        this.processAllReadies();
        const msgs = this.queue;
        this.queue = [];
        for (const f of msgs) this.deliver(f.msg);
        this.check();
        if (this.queue.length === 0 && !this.live().some((n) => n.node!.hasReady())) break;
      }
      const l = this.leader();
      if (l === undefined) continue;
      if (!this.markerApplied && (proposedAt < 0 || t - proposedAt > 50)) {
        // (Re-)propose a marker until it is applied: a leader change may lose an uncommitted proposal.
        try {
          l.node!.propose(enc.encode(marker));
          proposedAt = t;
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
        continue;
      }
      // Done when every member applied everything up to the leader's last index (incl. the marker).
      const r = l.node!.raft;
      const members = new Set(r.trk.voterNodes().concat(r.trk.learnerNodes()));
      const last = r.raftLog.lastIndex();
      const allApplied = [...members].every((id) => {
        const m = this.nodes.get(id);
        return m?.node !== undefined && m.disk.applied >= last;
      });
      if (this.markerApplied && allApplied) return;
    }
    const state = [...this.nodes.values()]
      .map((n) => {
        const r = n.node?.raft;
        return r
          ? `${n.id}:${["F", "C", "L", "P"][r.state]} t${r.term} last${r.raftLog.lastIndex()} c${r.raftLog.committed} a${n.disk.applied}`
          : `${n.id}:down`;
      })
      .join(", ");
    this.fail(`liveness: no progress within ${bound} ticks after healing (${state})`);
  }
}

function single(type: ConfChangeType, nodeId: bigint): ConfChangeV2 {
  return { transition: ConfChangeTransition.Auto, changes: [{ type, nodeId }], context: new Uint8Array(0) };
}

/** asV1 turns a single-change ConfChangeV2 into the equivalent v1 ConfChange. */
function asV1(cc: ConfChangeV2): ConfChange | undefined {
  const c = cc.changes[0];
  if (cc.changes.length !== 1 || c === undefined || cc.transition !== ConfChangeTransition.Auto)
    return undefined;
  return { id: 0n, type: c.type, nodeId: c.nodeId, context: cc.context };
}

/** runSeed runs one seeded simulation and returns its result. */
export function runSeed(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
