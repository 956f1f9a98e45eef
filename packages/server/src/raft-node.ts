import {
  type ConfChange,
  coalesceMessages,
  type Entry,
  type HardState,
  type MemoryStorage,
  type Message,
  messagesBeforePersist,
  ProposalDroppedError,
  type RawNode,
  type Ready,
  type Snapshot,
} from "@etcd-ts/raft";
import type { Wal } from "@etcd-ts/wal";
import { assert } from "./assert.js";

/** RaftNodeHooks are how the driver hands a Ready's work to the rest of the member. */
export interface RaftNodeHooks {
  /** send delivers messages to peers (best effort; raft retries). */
  send(messages: Message[]): void;
  /** apply applies committed entries (and a snapshot) in order; the next Ready waits for it. */
  apply(entries: Entry[], snapshot: Snapshot | undefined): Promise<void>;
  /** onLeader tells who the leader is (0n for none) and whether it is us, when that changes. */
  onLeaderChange(leader: bigint, term: number): void;
  /** onReadIndex resolves linearizable reads: the request context and the index to wait for. */
  onReadIndex(context: Uint8Array, index: number): void;
  /** saveSnapshot persists a snapshot received from the leader (the snap file) before the WAL marks it. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** onFatal is called when persisting fails: the member must stop (never keep going on a failed fsync). */
  onFatal(err: unknown): void;
  /** observeWalSave receives how long each synced WAL write took (etcd_disk_wal_fsync_duration_seconds). */
  observeWalSave?(seconds: number): void;
}

/**
 * RaftNode drives a RawNode: it ticks it, feeds it proposals and messages, and runs each Ready in the order
 * the Ready demands: persist entries and hard state to the WAL (one fsync for the whole Ready: group commit),
 * then send the messages, apply committed entries, and advance. A leader sends its appends and heartbeats
 * before its own write (raft thesis 10.2.1, as etcd does), so that its fsync and its followers' overlap.
 * Proposals that arrive while a Ready is being persisted are batched into the next one.
 */
export class RaftNode {
  readonly rawNode: RawNode;
  readonly storage: MemoryStorage;
  readonly #wal: Wal;
  readonly #hooks: RaftNodeHooks;
  readonly #tickMs: number;
  #ticker: NodeJS.Timeout | undefined;
  #running = false;
  #scheduled = false;
  #stopped = false;
  #lead = 0n;
  #unsavedHardState: HardState | undefined;
  #committed = 0;
  #term = 0;
  #idle: Array<() => void> = [];

  constructor(rawNode: RawNode, storage: MemoryStorage, wal: Wal, hooks: RaftNodeHooks, tickMs: number) {
    assert(tickMs > 0, "tickMs must be positive");
    this.rawNode = rawNode;
    this.storage = storage;
    this.#wal = wal;
    this.#hooks = hooks;
    this.#tickMs = tickMs;
  }

  /** start begins ticking. */
  start(): void {
    assert(this.#ticker === undefined, "raft node already started");
    this.#ticker = setInterval(() => {
      this.rawNode.tick();
      this.#schedule();
    }, this.#tickMs);
    this.#schedule();
  }

  /** stop stops ticking, waits for the Ready in progress, and saves the latest hard state. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    if (this.#running) await new Promise<void>((resolve) => this.#idle.push(resolve));
    await this.flushHardState();
  }

  /**
   * flushHardState writes a hard state that was kept back (a commit-only change). A snapshot calls it
   * first, so the WAL's commit index is never below a snapshot's index.
   */
  async flushHardState(): Promise<void> {
    const pending = this.#unsavedHardState;
    if (pending === undefined) return;
    this.#unsavedHardState = undefined;
    await this.#wal.save(pending, []);
  }

  /** committed is the commit index of the last persisted hard state. */
  get committed(): number {
    return this.#committed;
  }

  /** term is the term of the last persisted hard state. */
  get term(): number {
    return this.#term;
  }

  /** leader is the current leader's id as last seen (0n for none). */
  get leader(): bigint {
    return this.#lead;
  }

  /** propose appends data to the log (throws raft's ProposalDroppedError when it cannot). */
  propose(data: Uint8Array): void {
    this.rawNode.propose(data);
    this.#schedule();
  }

  /**
   * readIndex asks for a read index for `context`; the answer comes through hooks.onReadIndex. A request
   * raft refuses now (no leader known, or the leader's pending-read bound is full) is dropped, as etcd's
   * raft drops it: the read loop sends it again after its retry interval, by which time there may be a
   * leader, and fails it at its request timeout.
   */
  readIndex(context: Uint8Array): void {
    try {
      this.rawNode.readIndex(context);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
    this.#schedule();
  }

  /** step feeds a message from a peer. */
  step(message: Message): void {
    this.rawNode.step(message);
    this.#schedule();
  }

  /** proposeConfChange proposes a membership change (throws raft's ProposalDroppedError when it cannot). */
  proposeConfChange(cc: ConfChange): void {
    this.rawNode.proposeConfChange(cc);
    this.#schedule();
  }

  /** transferLeader asks the leader to hand leadership to `transferee`. */
  transferLeader(transferee: bigint): void {
    this.rawNode.transferLeader(transferee);
    this.#schedule();
  }

  /** reportUnreachable tells raft a peer could not be reached (it stops optimistic replication to it). */
  reportUnreachable(id: bigint): void {
    if (this.#stopped) return;
    this.rawNode.reportUnreachable(id);
    this.#schedule();
  }

  /** reportSnapshot tells raft how sending a snapshot to a peer ended. */
  reportSnapshot(id: bigint, ok: boolean): void {
    if (this.#stopped) return;
    this.rawNode.reportSnapshot(id, ok ? "finish" : "failure");
    this.#schedule();
  }

  /** campaign makes this node start an election now. */
  campaign(): void {
    this.rawNode.campaign();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#running || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#run();
    });
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (!this.#stopped && this.rawNode.hasReady()) {
        const rd = this.rawNode.ready();
        await this.#handle(rd);
        this.rawNode.advance();
      }
    } catch (err) {
      this.#stopped = true;
      if (this.#ticker !== undefined) clearInterval(this.#ticker);
      this.#hooks.onFatal(err);
    } finally {
      this.#running = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
    if (!this.#stopped && this.rawNode.hasReady()) this.#schedule();
  }

  async #handle(rd: Ready): Promise<void> {
    if (rd.softState !== undefined && rd.softState.lead !== this.#lead) {
      this.#lead = rd.softState.lead;
      this.#hooks.onLeaderChange(this.#lead, rd.hardState?.term ?? this.#term);
    }
    // 0. A leader's appends and heartbeats promise nothing about its own disk: they go out now, and the
    // followers write while the leader does (never in a Ready that changes the term or vote on disk).
    // Every send is coalesced first: raft emits one MsgApp per proposal and per commit advance, and a
    // follower answers each; merged, a follower gets one append per Ready and the leader one ack.
    const early = messagesBeforePersist(rd, this.rawNode.raft.state, this.storage.savedHardState());
    if (early.length > 0) this.#hooks.send(coalesceMessages(early, this.rawNode.raft.cfg.maxSizePerMsg));
    // 1. Persist (before sending anything that depends on it).
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) {
      await this.#hooks.saveSnapshot(rd.snapshot);
      await this.#wal.saveSnapshot({
        index: rd.snapshot.metadata.index,
        term: rd.snapshot.metadata.term,
        confState: rd.snapshot.metadata.confState,
      });
      this.storage.applySnapshot(rd.snapshot);
    }
    const hardState: HardState | undefined = rd.hardState;
    if (rd.mustSync || rd.entries.length > 0) {
      // New entries, or a new term or vote: durable before anything that depends on them is sent.
      const started = performance.now();
      await this.#wal.save(hardState ?? this.#unsavedHardState, rd.entries);
      this.#hooks.observeWalSave?.((performance.now() - started) / 1000);
      this.#unsavedHardState = undefined;
    } else if (hardState !== undefined) {
      // Only the commit index moved: raft can always learn it again, so it rides along with the next
      // synced write (or flushHardState) instead of costing an fsync of its own, as in etcd.
      this.#unsavedHardState = hardState;
    }
    if (hardState !== undefined) {
      this.storage.setHardState(hardState);
      this.#committed = hardState.commit;
      this.#term = hardState.term;
    }
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    // 2. Send the rest (all of it when nothing went early).
    const rest = early.length === 0 ? rd.messages : withoutMessages(rd.messages, early);
    if (rest.length > 0) this.#hooks.send(coalesceMessages(rest, this.rawNode.raft.cfg.maxSizePerMsg));
    // 3. Reads that raft confirmed.
    for (const rs of rd.readStates) this.#hooks.onReadIndex(rs.requestCtx, rs.index);
    // 4. Apply, in order.
    if (rd.committedEntries.length > 0 || rd.snapshot !== undefined) {
      await this.#hooks.apply(rd.committedEntries, rd.snapshot);
    }
  }
}

/** withoutMessages is `messages` minus the ones in `sent` (the same objects). */
function withoutMessages(messages: Message[], sent: Message[]): Message[] {
  const gone = new Set(sent);
  return messages.filter((m) => !gone.has(m));
}
