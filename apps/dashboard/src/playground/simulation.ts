import { type Entry, type Message, ProposalDroppedError } from "@etcd-ts/raft";
import { assert } from "../assert.js";
import { EventQueue } from "./event-queue.js";
import type { Role } from "./role.js";
import { SeededRandom } from "./seeded-random.js";
import { describeAction, type ScriptedAction, type SimAction } from "./sim-action.js";
import { SimNetwork } from "./sim-network.js";
import { encodeCommand, SimNode } from "./sim-node.js";

/** TICK_MS is the simulated time between two raft ticks of a node (etcd's default heartbeat interval). */
export const TICK_MS = 100;
/** LATENCY_MIN_MS and LATENCY_MAX_MS bound the one-way delay of a message, drawn per message. */
export const LATENCY_MIN_MS = 40;
/** LATENCY_MAX_MS is the largest one-way delay of a message. */
export const LATENCY_MAX_MS = 120;
/** LOAD_INTERVAL_MIN_MS and LOAD_INTERVAL_MAX_MS bound the gap between two requests of the client load. */
export const LOAD_INTERVAL_MIN_MS = 200;
/** LOAD_INTERVAL_MAX_MS is the largest gap between two requests of the client load. */
export const LOAD_INTERVAL_MAX_MS = 400;
/** MAX_HISTORY_EVENTS bounds the kept history; the oldest events are dropped beyond it. */
export const MAX_HISTORY_EVENTS = 5_000;
/** MAX_NODES bounds the cluster size the playground draws. */
export const MAX_NODES = 7;

/** SimEvent is one notable thing in a simulation's history (shown in the event log, compared in tests). */
export type SimEvent =
  | { at: number; kind: "role"; node: bigint; role: Role; term: number }
  | { at: number; kind: "commit"; node: bigint; index: number; term: number }
  | { at: number; kind: "action"; text: string }
  | {
      at: number;
      kind: "request";
      node: bigint | undefined;
      command: string;
      outcome: "proposed" | "dropped";
      reason: string;
    };

/** SimStats counts messages: sent (put on the wire), delivered, and lost (partition or crashed receiver). */
export interface SimStats {
  sent: number;
  delivered: number;
  lost: number;
}

/** SimulationOptions configure a playground run. */
export interface SimulationOptions {
  seed: number;
  /** nodes is the cluster size (3 or 5 in the UI; 1..MAX_NODES accepted). */
  nodes: number;
  /** script replays recorded user actions at their simulated times. */
  script?: readonly ScriptedAction[];
}

type Scheduled =
  | { kind: "tick"; node: bigint }
  | { kind: "deliver"; flight: number }
  | { kind: "action"; action: SimAction }
  | { kind: "load" };

/** Same-instant order: protocol events first, then user actions (as a user acts between two instants). */
const PRIORITY_PROTOCOL = 0;
const PRIORITY_ACTION = 1;

/**
 * Simulation runs the real @etcd-ts/raft on N nodes over a simulated network, driven by a discrete event
 * queue in simulated milliseconds. Every random choice (election timeouts, tick phases, message delays,
 * client load) comes from one {@link SeededRandom}, so a seed plus the script of user actions replays the
 * same history. After every event it checks two of Raft's safety properties (one leader per term; a
 * committed index never changes its entry) and throws an AssertionError if raft broke them.
 */
export class Simulation {
  readonly seed: number;
  readonly nodeIds: readonly bigint[];
  readonly network = new SimNetwork();
  /** history is the notable events so far, oldest first (bounded by MAX_HISTORY_EVENTS). */
  readonly history: SimEvent[] = [];
  /** script is every user action processed so far, with its time: replaying it reproduces this run. */
  readonly script: ScriptedAction[] = [];
  readonly stats: SimStats = { sent: 0, delivered: 0, lost: 0 };
  /** eventsRecorded counts every history event ever recorded (the history itself is bounded). */
  eventsRecorded = 0;
  /** now is the simulated time in milliseconds; every event up to it has run. */
  now = 0;

  readonly #random: SeededRandom;
  readonly #queue = new EventQueue<Scheduled>();
  readonly #nodes = new Map<bigint, SimNode>();
  readonly #lastRole = new Map<bigint, Role>();
  readonly #lastLeaderCommit = new Map<bigint, number>();
  readonly #leaderOfTerm = new Map<number, bigint>();
  /** Term of the entry committed at each index: committed entries never change. */
  readonly #committedTerm = new Map<number, number>();
  #requests = 0;
  #loadOn = false;
  #loadScheduled = false;

  constructor(options: SimulationOptions) {
    assert(
      Number.isSafeInteger(options.nodes) && options.nodes >= 1 && options.nodes <= MAX_NODES,
      `nodes must be 1..${MAX_NODES}, got ${options.nodes}`,
    );
    this.seed = options.seed;
    this.#random = new SeededRandom(options.seed);
    this.nodeIds = Array.from({ length: options.nodes }, (_, i) => BigInt(i + 1));
    for (const id of this.nodeIds) {
      this.#nodes.set(id, new SimNode(id, [...this.nodeIds], (n) => this.#random.int(n)));
      this.#lastRole.set(id, "follower");
      // Each node ticks on its own phase, as independent servers do.
      this.#queue.push(1 + this.#random.int(TICK_MS), PRIORITY_PROTOCOL, { kind: "tick", node: id });
    }
    for (const s of options.script ?? []) {
      this.#queue.push(s.at, PRIORITY_ACTION, { kind: "action", action: s.action });
    }
  }

  /** node returns the simulated node `id`. */
  node(id: bigint): SimNode {
    const n = this.#nodes.get(id);
    assert(n !== undefined, `no node ${id}`);
    return n;
  }

  /** nodes lists the simulated nodes in id order. */
  nodes(): SimNode[] {
    return this.nodeIds.map((id) => this.node(id));
  }

  /** leader is the running leader with the highest term (a deposed leader may not know it yet). */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes()) {
      if (n.role() === "leader" && (best === undefined || n.term() > best.term())) best = n;
    }
    return best;
  }

  /** loadOn tells whether the steady client load is running. */
  get loadOn(): boolean {
    return this.#loadOn;
  }

  /** nextEventTime is the time of the next scheduled event. */
  nextEventTime(): number | undefined {
    return this.#queue.peekTime();
  }

  /** act performs a user action now and records it in {@link script}. */
  act(action: SimAction): void {
    this.#queue.push(this.now, PRIORITY_ACTION, { kind: "action", action });
    this.advanceTo(this.now);
  }

  /** advanceTo runs every event scheduled up to time `t` and moves the clock there. */
  advanceTo(t: number): void {
    assert(t >= this.now, `time cannot go back (${t} < ${this.now})`);
    for (;;) {
      const next = this.#queue.peekTime();
      if (next === undefined || next > t) break;
      this.#runNext();
    }
    this.now = t;
  }

  /** stepInstant runs every event of the next instant that has one (the "step" control). */
  stepInstant(): void {
    const next = this.#queue.peekTime();
    if (next !== undefined) this.advanceTo(next);
  }

  /** runUntil advances instant by instant until `done()` holds or `limitMs` more simulated ms passed. */
  runUntil(done: () => boolean, limitMs: number): boolean {
    const end = this.now + limitMs;
    while (!done()) {
      const next = this.#queue.peekTime();
      if (next === undefined || next > end) {
        this.advanceTo(end);
        return done();
      }
      this.advanceTo(next);
    }
    return true;
  }

  /** fingerprint is a canonical text of the whole observable state, equal for equal runs. */
  fingerprint(): string {
    const state = {
      now: this.now,
      history: this.history,
      stats: this.stats,
      nodes: this.nodes().map((n) => ({
        id: n.id,
        role: n.role(),
        term: n.term(),
        commit: n.commit(),
        hardState: n.storage.savedHardState(),
        log: n.log().map((e) => [e.index, e.term]),
        applied: n.appliedCommands,
      })),
      inFlight: this.network
        .inFlight()
        .map((f) => [f.id, f.message.type, f.message.from, f.message.to, f.deliverAt]),
    };
    return JSON.stringify(state, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
  }

  #runNext(): void {
    const ev = this.#queue.pop();
    assert(ev !== undefined, "runNext on an empty queue");
    assert(ev.at >= this.now, `event at ${ev.at} scheduled in the past (now ${this.now})`);
    this.now = ev.at;
    const s = ev.value;
    switch (s.kind) {
      case "tick": {
        const n = this.node(s.node);
        if (n.up) n.raw.tick();
        this.#queue.push(this.now + TICK_MS, PRIORITY_PROTOCOL, s);
        break;
      }
      case "deliver":
        this.#deliver(s.flight);
        break;
      case "action":
        this.script.push({ at: this.now, action: s.action });
        this.#record({ at: this.now, kind: "action", text: describeAction(s.action) });
        this.#perform(s.action);
        break;
      case "load":
        this.#loadScheduled = false;
        if (this.#loadOn) {
          this.#request(undefined);
          this.#scheduleLoad();
        }
        break;
    }
    this.#drain();
    this.#observe();
  }

  #perform(action: SimAction): void {
    switch (action.kind) {
      case "request":
        this.#request(action.node);
        break;
      case "crash": {
        const n = this.node(action.node);
        if (n.up) n.crash();
        break;
      }
      case "restart": {
        const n = this.node(action.node);
        if (!n.up) n.restart();
        break;
      }
      case "isolate":
        this.node(action.node);
        this.network.isolate(action.node);
        break;
      case "partition":
        for (const g of action.groups) for (const id of g) this.node(id);
        this.network.partition(action.groups);
        break;
      case "heal":
        this.network.heal();
        break;
      case "load":
        this.#loadOn = action.on;
        if (action.on) this.#scheduleLoad();
        break;
    }
  }

  #scheduleLoad(): void {
    if (this.#loadScheduled) return;
    this.#loadScheduled = true;
    const gap = this.#random.between(LOAD_INTERVAL_MIN_MS, LOAD_INTERVAL_MAX_MS);
    this.#queue.push(this.now + gap, PRIORITY_PROTOCOL, { kind: "load" });
  }

  #request(at: bigint | undefined): void {
    const command = `req-${++this.#requests}`;
    const target = at === undefined ? this.leader() : this.node(at);
    const dropped = (reason: string) =>
      this.#record({ at: this.now, kind: "request", node: target?.id, command, outcome: "dropped", reason });
    if (target === undefined) {
      dropped("no leader known");
      return;
    }
    if (!target.up) {
      dropped(`node ${target.id} is down`);
      return;
    }
    try {
      target.raw.propose(encodeCommand(command));
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      dropped(err.message);
      return;
    }
    this.#record({
      at: this.now,
      kind: "request",
      node: target.id,
      command,
      outcome: "proposed",
      reason: "",
    });
  }

  #deliver(flightId: number): void {
    const flight = this.network.take(flightId);
    assert(flight !== undefined, `message ${flightId} delivered twice`);
    const m = flight.message;
    const to = this.#nodes.get(m.to);
    if (to === undefined || !to.up || !this.network.connected(m.from, m.to)) {
      this.stats.lost++;
      return;
    }
    this.stats.delivered++;
    to.raw.step(m);
  }

  #send(m: Message): void {
    this.stats.sent++;
    if (!this.network.connected(m.from, m.to)) {
      this.stats.lost++;
      return;
    }
    const deliverAt = this.now + this.#random.between(LATENCY_MIN_MS, LATENCY_MAX_MS);
    const flight = this.network.send(m, this.now, deliverAt);
    this.#queue.push(deliverAt, PRIORITY_PROTOCOL, { kind: "deliver", flight: flight.id });
  }

  #applied(_node: bigint, e: Entry): void {
    const known = this.#committedTerm.get(e.index);
    assert(
      known === undefined || known === e.term,
      `seed ${this.seed}: committed entry ${e.index} changed term ${known} -> ${e.term}`,
    );
    this.#committedTerm.set(e.index, e.term);
  }

  #drain(): void {
    const hooks = {
      send: (m: Message) => this.#send(m),
      applied: (n: bigint, e: Entry) => this.#applied(n, e),
    };
    // A Ready can only produce messages for others, which arrive later, so one pass settles every node.
    for (const n of this.nodes()) n.handleReady(hooks);
  }

  #observe(): void {
    for (const n of this.nodes()) {
      const role = n.role();
      if (role !== this.#lastRole.get(n.id)) {
        this.#lastRole.set(n.id, role);
        this.#record({ at: this.now, kind: "role", node: n.id, role, term: n.term() });
        if (role === "leader") {
          const other = this.#leaderOfTerm.get(n.term());
          assert(
            other === undefined || other === n.id,
            `seed ${this.seed}: two leaders in term ${n.term()} (${other} and ${n.id})`,
          );
          this.#leaderOfTerm.set(n.term(), n.id);
          this.#lastLeaderCommit.set(n.id, n.commit());
        }
      }
      if (role === "leader") {
        const commit = n.commit();
        if (commit > (this.#lastLeaderCommit.get(n.id) ?? 0)) {
          this.#lastLeaderCommit.set(n.id, commit);
          this.#record({ at: this.now, kind: "commit", node: n.id, index: commit, term: n.term() });
        }
      }
    }
  }

  #record(e: SimEvent): void {
    this.eventsRecorded++;
    this.history.push(e);
    if (this.history.length > MAX_HISTORY_EVENTS)
      this.history.splice(0, this.history.length - MAX_HISTORY_EVENTS);
  }
}
