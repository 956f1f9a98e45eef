import { assert } from "./assert.js";
import { encodeConfChange, encodeConfChangeV2 } from "./confchange/codec.js";
import { asV2 } from "./confchange/conf-change.js";
import type { Config } from "./config.js";
import { StepLocalMsgError, StepPeerNotFoundError } from "./errors.js";
import { Raft } from "./raft.js";
import type { Ready } from "./ready.js";
import type { ProgressStatus, Status } from "./status.js";
import type { ConfChange, ConfChangeV2, ConfState, HardState, Message, SoftState } from "./types.js";
import { EntryType, MessageType, newEntry, newMessage, payloadSizeBytes, StateType } from "./types.js";

/** SnapshotStatus is what the driver reports after trying to send a snapshot. */
export type SnapshotStatus = "finish" | "failure";

function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

/** What the last Ready handed out, so that advance() can acknowledge exactly that. */
interface Handed {
  lastEntry: { index: number; term: number } | undefined;
  snapshotIndex: number | undefined;
  lastCommitted: number | undefined;
  committedBytes: number;
  snapshot: Ready["snapshot"];
}

/**
 * RawNode is the synchronous, single-threaded API of a Raft node. The driver calls `tick()` on a timer,
 * `step()` for each received message, `propose()` for client writes, and processes each `Ready` (see
 * {@link Ready} for the duties and their order) before calling `advance()`.
 */
export class RawNode {
  /** The protocol state machine (exposed for tests and advanced use). */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private handed: Handed | undefined = undefined;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** tick advances the logical clock (election and heartbeat timeouts are counted in ticks). */
  tick(): void {
    this.raft.tick();
  }

  /** campaign makes this node start an election (a pre-election with preVote) now. */
  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.MsgHup }));
  }

  /** propose appends data to the log (via the leader). Throws ProposalDroppedError if it cannot. */
  propose(data: Uint8Array): void {
    this.raft.step(
      newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [newEntry({ data })] }),
    );
  }

  /** proposeConfChange proposes a membership change. Throws ProposalDroppedError if it cannot. */
  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    const entry =
      "changes" in cc
        ? newEntry({ type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) })
        : newEntry({ type: EntryType.ConfChange, data: encodeConfChange(cc) });
    this.raft.step(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [entry] }));
  }

  /**
   * applyConfChange applies a committed conf change (decoded from a committed entry) and returns the
   * new ConfState, which the application should store with its next snapshot.
   */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return this.raft.applyConfChange(asV2(cc));
  }

  /** step feeds a message received from a peer. Local message types are refused. */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw new StepLocalMsgError();
    if (isResponseMsg(m.type) && !this.raft.trk.progress.has(m.from)) throw new StepPeerNotFoundError();
    this.raft.step(m);
  }

  /** hasReady reports whether `ready()` would return any work. */
  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstable.entries.length > 0 || r.raftLog.hasNextCommittedEnts())
      return true;
    return r.readStates.length > 0;
  }

  /**
   * ready returns the pending work. Call `advance()` once it has been handled and before the next
   * `ready()`. Between the two, the node may still be ticked and stepped.
   */
  ready(): Ready {
    assert(this.handed === undefined, "ready() called again before advance()");
    const r = this.raft;
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged = ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState;
    const hardChanged = !hardStateEqual(hs, this.prevHardState);
    const entries = r.raftLog.unstableEntries();
    const snapshot = r.raftLog.unstable.snapshot;
    const committedEntries = r.raftLog.nextCommittedEnts();
    const rd: Ready = {
      softState: softChanged ? ss : undefined,
      hardState: hardChanged ? hs : undefined,
      readStates: r.readStates,
      entries,
      snapshot,
      committedEntries,
      messages: r.msgs,
      mustSync:
        hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote || entries.length > 0,
    };
    r.msgs = [];
    r.readStates = [];
    if (softChanged) this.prevSoftState = ss;
    if (hardChanged) this.prevHardState = hs;
    const lastEntry = entries[entries.length - 1];
    const lastCommitted = committedEntries[committedEntries.length - 1];
    let committedBytes = 0;
    for (const e of committedEntries) committedBytes += payloadSizeBytes(e);
    if (lastCommitted) r.raftLog.applyingTo(lastCommitted.index);
    this.handed = {
      lastEntry: lastEntry ? { index: lastEntry.index, term: lastEntry.term } : undefined,
      snapshotIndex: snapshot?.metadata.index,
      lastCommitted: lastCommitted?.index,
      committedBytes,
      snapshot,
    };
    return rd;
  }

  /**
   * advance acknowledges the last Ready: its entries and snapshot are persisted and its committed
   * entries applied.
   */
  advance(): void {
    const h = this.handed;
    assert(h !== undefined, "advance() called without a pending ready()");
    this.handed = undefined;
    const r = this.raft;
    if (h.snapshot !== undefined) r.appliedSnapshot(h.snapshot);
    if (h.lastEntry) r.raftLog.stableTo(h.lastEntry.index, h.lastEntry.term);
    if (h.lastCommitted !== undefined) r.appliedTo(h.lastCommitted, h.committedBytes);
  }

  /** readIndex requests a read index; the answer arrives as a ReadState carrying `ctx`. */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(newMessage({ type: MessageType.MsgReadIndex, entries: [newEntry({ data: ctx })] }));
  }

  /** transferLeader asks the leader to hand leadership to `transferee`. */
  transferLeader(transferee: bigint): void {
    this.raft.step(newMessage({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /** reportUnreachable tells raft that the last message to `id` could not be delivered. */
  reportUnreachable(id: bigint): void {
    this.raft.step(newMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  /** reportSnapshot tells raft whether sending a snapshot to `id` succeeded. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.raft.step(newMessage({ type: MessageType.MsgSnapStatus, from: id, reject: status === "failure" }));
  }

  /**
   * forgetLeader makes a follower forget its leader (e.g. when it is known to be gone), so that it can
   * grant votes at once instead of waiting out the election timeout. Ignored with lease-based reads.
   */
  forgetLeader(): void {
    this.raft.step(newMessage({ type: MessageType.MsgForgetLeader }));
  }

  /** status returns the node's current state. */
  status(): Status {
    const r = this.raft;
    const progress = new Map<bigint, ProgressStatus>();
    if (r.state === StateType.Leader) {
      r.trk.visit((id, pr) => {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          pendingSnapshot: pr.pendingSnapshot,
          recentActive: pr.recentActive,
          probeSent: pr.probeSent,
          isLearner: pr.isLearner,
          inflightCount: pr.inflights.count(),
          inflightBytes: pr.inflights.sizeBytes(),
        });
      });
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      progress,
      leadTransferee: r.leadTransferee,
      config: r.trk.confState(),
    };
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
