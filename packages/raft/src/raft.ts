import { assert } from "./assert.js";
import type { ChangeResult } from "./confchange/changer.js";
import { Changer } from "./confchange/changer.js";
import { decodeConfChange, decodeConfChangeV2 } from "./confchange/codec.js";
import { asV2, enterJoint, leaveJoint } from "./confchange/conf-change.js";
import { restoreConfState } from "./confchange/restore.js";
import type { Config, ResolvedConfig } from "./config.js";
import { validateConfig } from "./config.js";
import {
  CompactedError,
  ProposalDroppedError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from "./errors.js";
import { RaftLog } from "./log.js";
import { VoteResult } from "./quorum/vote-result.js";
import { MAX_PENDING_READ_INDEX_REQUESTS, ReadOnly } from "./read-only.js";
import { ProgressState } from "./tracker/progress.js";
import { ProgressTracker } from "./tracker/tracker.js";
import type {
  ConfChangeV2,
  ConfState,
  Entry,
  HardState,
  Message,
  ReadState,
  Snapshot,
  SoftState,
} from "./types.js";
import {
  EntryType,
  isEmptyHardState,
  MessageType,
  NONE,
  newEntry,
  newMessage,
  payloadSizeBytes,
  ReadOnlyOption,
  StateType,
} from "./types.js";

/** CampaignType distinguishes a pre-election, a normal election and one forced by leader transfer. */
export const CampaignType = {
  PreElection: "CampaignPreElection",
  Election: "CampaignElection",
  Transfer: "CampaignTransfer",
} as const;
/** CampaignType is the kind of campaign. */
export type CampaignType = (typeof CampaignType)[keyof typeof CampaignType];

const TRANSFER_CONTEXT = new TextEncoder().encode(CampaignType.Transfer);

function isTransferContext(ctx: Uint8Array): boolean {
  if (ctx.byteLength !== TRANSFER_CONTEXT.byteLength) return false;
  for (let i = 0; i < ctx.byteLength; i++) if (ctx[i] !== TRANSFER_CONTEXT[i]) return false;
  return true;
}

/** voteRespType maps a vote request type to its response type. */
export function voteRespType(t: MessageType): MessageType {
  switch (t) {
    case MessageType.MsgVote:
      return MessageType.MsgVoteResp;
    case MessageType.MsgPreVote:
      return MessageType.MsgPreVoteResp;
    default:
      throw new Error(`not a vote message: ${t}`);
  }
}

/**
 * Raft is the protocol state machine of one node. It is driven by `step` (messages, including local
 * ones such as MsgHup/MsgProp) and `tick`; its output accumulates in `msgs`, `readStates` and the log's
 * unstable/committed parts, which RawNode hands out as a Ready.
 */
export class Raft {
  readonly id: bigint;
  term = 0;
  vote: bigint = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  trk: ProgressTracker;
  state: StateType = StateType.Follower;
  /** Whether this node is a learner in the current config. */
  isLearner = false;
  /** Outgoing messages, in the order they were produced. */
  msgs: Message[] = [];
  lead: bigint = NONE;
  /** Target of an ongoing leader transfer, NONE if none. */
  leadTransferee: bigint = NONE;
  /**
   * Only one conf change may be pending (in the log, not yet applied). A leader sets this to the index
   * of the last conf change it appended; proposals of new ones are refused while applied < this.
   */
  pendingConfIndex = 0;
  /** Payload bytes of uncommitted entries appended by this leader (bounded by maxUncommittedSize). */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** Ticks since the last election timeout reset (follower/candidate) or since the last CheckQuorum (leader). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** In [electionTimeout, 2*electionTimeout); reset whenever the node becomes a follower or candidate. */
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  readonly stepDownOnRemoval: boolean;
  /** ReadIndex requests received before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  readonly cfg: ResolvedConfig;

  constructor(config: Config) {
    const c = validateConfig(config);
    this.cfg = c;
    this.id = c.id;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady);
    const { hardState, confState } = c.storage.initialState();
    this.maxMsgSize = c.maxSizePerMsg;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize;
    this.trk = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.readOnly = new ReadOnly(c.readOnlyOption);
    this.disableProposalForwarding = c.disableProposalForwarding;
    this.stepDownOnRemoval = c.stepDownOnRemoval;

    const restored = restoreConfState(this.trk, this.raftLog.lastIndex(), confState);
    const cs = this.switchToConfig(restored);
    assertConfStatesEquivalent(cs, confState);

    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------- state accessors

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  private loadState(hs: HardState): void {
    assert(
      hs.commit <= this.raftLog.lastIndex(),
      () =>
        `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    // A commit below the snapshot index means the driver crashed after persisting a snapshot but before
    // the hard state of the same Ready. Everything in a snapshot is committed: keep the snapshot index.
    if (hs.commit > this.raftLog.committed) this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** promotable reports whether this node may become leader (a voter with no snapshot pending). */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private resetRandomizedElectionTimeout(): void {
    const r = this.cfg.random(this.electionTimeout);
    assert(
      Number.isInteger(r) && r >= 0 && r < this.electionTimeout,
      `random(${this.electionTimeout}) returned ${r}`,
    );
    this.randomizedElectionTimeout = this.electionTimeout + r;
  }

  // ---------------------------------------------------------------- sending

  /** send queues a message, stamping `from` and (for messages that need one) the current term. */
  send(m: Message): void {
    // Forwarded messages (proposals, read-index and transfer requests) keep their original sender.
    if (m.from === NONE) m.from = this.id;
    if (
      m.type === MessageType.MsgVote ||
      m.type === MessageType.MsgVoteResp ||
      m.type === MessageType.MsgPreVote ||
      m.type === MessageType.MsgPreVoteResp
    ) {
      // Vote messages carry the term of the election they are about, which may differ from ours.
      assert(m.term !== 0, `term should be set when sending ${m.type}`);
    } else {
      assert(m.term === 0, () => `term should not be set when sending ${m.type} (was ${m.term})`);
      // Proposals and read-index requests are forwarded as local messages, without a term.
      if (m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** sendAppend sends a MsgApp (or a snapshot) to `to`, even if it carries no entries. */
  sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * maybeSendAppend sends what `to` needs next, if its progress is not paused: entries from `next`, or a
   * snapshot when those were compacted. With sendIfEmpty=false nothing is sent when there are no new
   * entries. Returns whether a message was sent.
   */
  maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number | undefined;
    let ents: Entry[] | undefined;
    try {
      prevTerm = this.raftLog.term(prevIndex);
      ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    } catch (e) {
      if (!(e instanceof CompactedError || e instanceof UnavailableError)) throw e;
    }
    if (prevTerm === undefined || ents === undefined) {
      // The entries the follower needs are compacted: send a snapshot instead.
      if (!pr.recentActive) return false;
      let snap: Snapshot;
      try {
        snap = this.raftLog.snapshot();
      } catch (e) {
        if (e instanceof SnapshotTemporarilyUnavailableError) return false;
        throw e;
      }
      assert(snap.metadata.index !== 0, "need non-empty snapshot");
      pr.becomeSnapshot(snap.metadata.index);
      this.send(newMessage({ type: MessageType.MsgSnap, to, snapshot: snap }));
      return true;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of ents) bytes += payloadSizeBytes(e);
    this.send(
      newMessage({
        type: MessageType.MsgApp,
        to,
        index: prevIndex,
        logTerm: prevTerm,
        entries: ents,
        commit: this.raftLog.committed,
      }),
    );
    pr.updateOnEntriesSend(ents.length, bytes, pr.next);
    return true;
  }

  /** sendHeartbeat sends a heartbeat carrying a commit index the follower is known to have. */
  private sendHeartbeat(to: bigint, ctx: Uint8Array | undefined): void {
    // The follower may not have all committed entries yet: never tell it to commit beyond its match.
    const pr = this.trk.progress.get(to)!;
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.send(newMessage({ type: MessageType.MsgHeartbeat, to, commit, ...(ctx ? { context: ctx } : {}) }));
  }

  /** bcastAppend sends MsgApp to every other member. */
  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  private bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx());
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array | undefined): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  // ---------------------------------------------------------------- commit and apply

  /** maybeCommit advances the commit index to what a quorum has (if it is of the current term). */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(
      this.trk.committed(),
      this.term,
      this.cfg.testingKnobs.commitPreviousTermByCounting === true,
    );
  }

  /**
   * appliedTo is called when the application applied entries up to `index` (of `sizeBytes` payload). A
   * leader in an auto-leave joint config proposes leaving it once the entering change is applied.
   */
  appliedTo(index: number, sizeBytes: number): void {
    const oldApplied = this.raftLog.applied;
    const newApplied = Math.max(index, oldApplied);
    this.raftLog.appliedTo(newApplied);
    this.reduceUncommittedSize(sizeBytes);
    if (this.trk.config.autoLeave && newApplied >= this.pendingConfIndex && this.state === StateType.Leader) {
      // The joint config is committed and applied: propose the empty change that leaves it. It must not
      // be refused as "a conf change is pending", hence no pendingConfIndex check here.
      const ent = newEntry({ type: EntryType.ConfChangeV2, data: new Uint8Array(0) });
      if (this.appendEntry([ent])) {
        this.pendingConfIndex = this.raftLog.lastIndex();
        this.bcastAppend();
      }
    }
  }

  /** appliedSnapshot records that the application installed snapshot `s`. */
  appliedSnapshot(s: Snapshot): void {
    const index = s.metadata.index;
    this.raftLog.stableSnapTo(index);
    this.raftLog.appliedTo(index);
  }

  // ---------------------------------------------------------------- role changes

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      pr.match = 0;
      pr.next = last + 1;
      pr.becomeProbe();
      pr.next = last + 1;
      pr.recentActive = false;
      if (id === this.id) {
        pr.match = last;
        pr.recentActive = true;
      }
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
  }

  /**
   * appendEntry appends proposals to the leader's log (stamping term and index) and counts the leader's
   * own copy. Returns false if the uncommitted-size limit drops them.
   */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    const stamped = es.map((e, i) => ({ ...e, term: this.term, index: li + 1 + i }));
    if (!this.increaseUncommittedSize(stamped)) return false;
    li = this.raftLog.append(stamped);
    // The leader's own entry counts toward the quorum: the driver persists it (same Ready) before any
    // follower acknowledgement can be stepped, so it is on stable storage before it is relied upon.
    this.trk.progress.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  becomeFollower(term: number, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  becomeCandidate(): void {
    assert(this.state !== StateType.Leader, "invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
  }

  becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, "invalid transition [leader -> pre-candidate]");
    // A pre-candidate changes neither its term nor its vote: a pre-election must not disrupt anyone.
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
  }

  becomeLeader(): void {
    assert(this.state !== StateType.Follower, "invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    // Followers start in probe state (set by reset); the leader's own progress is trivially replicating.
    this.trk.progress.get(this.id)?.becomeReplicate();
    // Conservatively assume the unapplied tail of the log may contain a conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An empty entry of the new term lets the leader commit everything before it (§5.4.2, §8).
    const ok = this.appendEntry([newEntry({})]);
    assert(ok, "empty entry was dropped");
    // The empty entry has no payload, so it does not count against the uncommitted limit.
    this.uncommittedSize = 0;
  }

  private hup(t: CampaignType): void {
    if (this.state === StateType.Leader) return;
    if (!this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return;
    this.campaign(t);
  }

  /** hasUnappliedConfChanges reports whether a committed conf change is not yet applied. */
  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    let lo = this.raftLog.applied + 1;
    const hi = this.raftLog.committed + 1;
    while (lo < hi) {
      const ents = this.raftLog.slice(Math.max(lo, this.raftLog.firstIndex()), hi, this.maxMsgSize);
      if (ents.length === 0) return false;
      for (const e of ents) if (e.type !== EntryType.Normal) return true;
      lo = ents[ents.length - 1]!.index + 1;
    }
    return false;
  }

  /** campaign starts a (pre-)election; assumes the node is promotable. */
  campaign(t: CampaignType): void {
    let term: number;
    let voteMsg: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgPreVote;
      // Pre-votes are asked for the term we would campaign in, without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgVote;
      term = this.term;
    }
    if (this.poll(this.id, true) === VoteResult.Won) {
      // Single-voter configuration: we won by voting for ourselves.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    for (const id of this.trk.voterNodes()) {
      if (id === this.id) continue;
      this.send(
        newMessage({
          type: voteMsg,
          to: id,
          term,
          index: this.raftLog.lastIndex(),
          logTerm: this.raftLog.lastTerm(),
          ...(t === CampaignType.Transfer ? { context: TRANSFER_CONTEXT } : {}),
        }),
      );
    }
  }

  private poll(id: bigint, granted: boolean): VoteResult {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  // ---------------------------------------------------------------- tick

  /** tick advances the logical clock by one tick. */
  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  // ---------------------------------------------------------------- step

  /**
   * step processes one message. Throws {@link ProposalDroppedError} when a proposal (MsgProp) or a
   * transfer/read-index request cannot be handled.
   */
  step(m: Message): void {
    if (m.term === 0) {
      // Local message.
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = isTransferContext(m.context);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        // With CheckQuorum, a node that heard from a leader within the election timeout ignores votes:
        // the leader is alive, and a removed or partitioned node must not disrupt it (§6).
        if (!force && inLease) return;
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term; we move there only if we win the pre-election.
      } else if (
        m.type === MessageType.MsgApp ||
        m.type === MessageType.MsgHeartbeat ||
        m.type === MessageType.MsgSnap
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if (
        (this.checkQuorum || this.preVote) &&
        (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)
      ) {
        // A stale leader (e.g. healed from a partition) would never learn of the new term from us if we
        // stayed silent, because with CheckQuorum/PreVote we will not bump terms by voting. Answer it.
        this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from }));
      } else if (m.type === MessageType.MsgPreVote) {
        // Reject with our (higher) term so the pre-candidate learns it.
        this.send(
          newMessage({ type: MessageType.MsgPreVoteResp, to: m.from, term: this.term, reject: true }),
        );
      } else if (m.type === MessageType.MsgVote) {
        // Reject with our term, as the paper's RequestVote reply does (etcd-io/raft stays silent here). A
        // candidate that cannot otherwise hear our term (e.g. we are not a voter in its view of the config,
        // so we never ask it for votes) would stay behind forever while we keep campaigning past it.
        this.send(newMessage({ type: MessageType.MsgVoteResp, to: m.from, term: this.term, reject: true }));
      }
      // All other messages of a stale term are ignored (§5.1).
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        // We can vote if we already voted for this candidate, or have not voted and know no leader in
        // this term, or it is a pre-vote for a future term.
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === MessageType.MsgPreVote && m.term > this.term);
        const upToDate =
          this.cfg.testingKnobs.voteWithoutLogCheck === true || this.raftLog.isUpToDate(m.index, m.logTerm);
        if (canVote && upToDate) {
          // The response carries the election's term (for pre-votes, a future term).
          this.send(newMessage({ type: voteRespType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.MsgVote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(newMessage({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        break;
    }
    switch (this.state) {
      case StateType.Leader:
        this.stepLeader(m);
        return;
      case StateType.Candidate:
      case StateType.PreCandidate:
        this.stepCandidate(m);
        return;
      default:
        this.stepFollower(m);
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.MsgBeat:
        this.bcastHeartbeat();
        return;
      case MessageType.MsgCheckQuorum: {
        const self = this.trk.progress.get(this.id);
        if (self) self.recentActive = true;
        if (!this.trk.quorumActive()) this.becomeFollower(this.term, NONE);
        // Everyone but us starts the next round as inactive.
        this.trk.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      }
      case MessageType.MsgProp:
        this.leaderPropose(m);
        return;
      case MessageType.MsgReadIndex:
        if (
          this.readOnly.pendingCount() + this.pendingReadIndexMessages.length >=
          MAX_PENDING_READ_INDEX_REQUESTS
        ) {
          throw new ProposalDroppedError();
        }
        if (this.trk.isSingleton()) {
          const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
          if (resp.to !== NONE) this.send(resp);
          return;
        }
        // Until the leader committed an entry of its term it does not know the latest commit index (§8).
        if (!this.committedEntryInCurrentTerm()) {
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.sendMsgReadIndexResponse(m);
        return;
      case MessageType.MsgForgetLeader:
        return;
      default:
        break;
    }

    const pr = this.trk.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.MsgAppResp: {
        pr.recentActive = true;
        if (m.reject) {
          // Fast backtracking: the follower told us the last index <= m.index whose term is <= m.logTerm;
          // skip every entry of ours with a term > that, in one step.
          let nextProbeIdx = m.rejectHint;
          if (m.logTerm > 0) nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            if (pr.state === ProgressState.Replicate) pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const oldPaused = pr.isPaused();
        if (!pr.maybeUpdate(m.index)) {
          return;
        }
        switch (pr.state) {
          case ProgressState.Probe:
            pr.becomeReplicate();
            break;
          case ProgressState.Snapshot:
            if (pr.match + 1 >= this.raftLog.firstIndex()) {
              // The follower caught up past the compaction point: resume normal replication.
              pr.becomeProbe();
              pr.becomeReplicate();
            }
            break;
          default:
            pr.inflights.freeLE(m.index);
        }
        if (this.maybeCommit()) {
          this.releasePendingReadIndexMessages();
          this.bcastAppend();
        } else if (oldPaused) {
          this.sendAppend(m.from);
        }
        // Stream as much as the inflight window allows.
        while (this.maybeSendAppend(m.from, false)) {
          // keep sending
        }
        if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
          this.sendTimeoutNow(m.from);
        }
        return;
      }
      case MessageType.MsgHeartbeatResp: {
        pr.recentActive = true;
        pr.probeSent = false;
        // A full window with a live follower: free one slot so that replication keeps moving.
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
        if (this.readOnly.option !== ReadOnlyOption.Safe || m.context.byteLength === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (acks === undefined) return;
        if (this.trk.config.voters.voteResult((id) => (acks.has(id) ? true : undefined)) !== VoteResult.Won)
          return;
        for (const rs of this.readOnly.advance(m.context)) {
          const resp = this.responseToReadIndexReq(rs.req, rs.index);
          if (resp.to !== NONE) this.send(resp);
        }
        return;
      }
      case MessageType.MsgSnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) pr.pendingSnapshot = 0;
        // On success, probe from after the snapshot; on failure, from match. Either way wait for the
        // next heartbeat response (probeSent) before sending, to not flood a follower still installing it.
        pr.becomeProbe();
        pr.probeSent = true;
        return;
      case MessageType.MsgUnreachable:
        // The follower is unreachable: stop streaming and go back to probing.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.MsgTransferLeader: {
        if (pr.isLearner) return;
        const transferee = m.from;
        const last = this.leadTransferee;
        if (last !== NONE) {
          if (last === transferee) return;
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) return;
        // The transfer must finish within one election timeout.
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee);
        else this.sendAppend(transferee);
        return;
      }
      default:
        return;
    }
  }

  private leaderPropose(m: Message): void {
    assert(m.entries.length > 0, `${this.id} stepped empty MsgProp`);
    if (!this.trk.progress.has(this.id)) {
      // We were removed from the configuration while leader; refuse proposals.
      throw new ProposalDroppedError();
    }
    if (this.leadTransferee !== NONE) throw new ProposalDroppedError();
    const entries = m.entries.map((e) => ({ ...e }));
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      let cc: ConfChangeV2 | undefined;
      if (e.type === EntryType.ConfChange) cc = asV2(decodeConfChange(e.data));
      else if (e.type === EntryType.ConfChangeV2) cc = decodeConfChangeV2(e.data);
      if (cc === undefined) continue;
      const alreadyPending = this.pendingConfIndex > this.raftLog.applied;
      const alreadyJoint = this.trk.config.voters.isJoint();
      const wantsLeaveJoint = leaveJoint(cc);
      let refused = false;
      if (alreadyPending) refused = true;
      else if (alreadyJoint && !wantsLeaveJoint) refused = true;
      else if (!alreadyJoint && wantsLeaveJoint) refused = true;
      if (refused) {
        // One conf change at a time: a refused one becomes an empty normal entry (it still gets an
        // index, so the proposer sees it committed and applies nothing).
        entries[i] = newEntry({});
      } else {
        this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
      }
    }
    if (!this.appendEntry(entries)) throw new ProposalDroppedError();
    this.bcastAppend();
  }

  private stepCandidate(m: Message): void {
    const myVoteRespType =
      this.state === StateType.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    switch (m.type) {
      case MessageType.MsgProp:
        throw new ProposalDroppedError();
      case MessageType.MsgApp:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.MsgTimeoutNow:
        return;
      default:
        break;
    }
    if (m.type !== myVoteRespType) return;
    const res = this.poll(m.from, !m.reject);
    if (res === VoteResult.Won) {
      if (this.state === StateType.PreCandidate) {
        this.campaign(CampaignType.Election);
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (res === VoteResult.Lost) {
      // A pre-candidate's term is unchanged; a candidate stays in its (already bumped) term.
      this.becomeFollower(this.term, NONE);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.lead === NONE || this.disableProposalForwarding) throw new ProposalDroppedError();
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.MsgApp:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.MsgTransferLeader:
        if (this.lead === NONE) throw new ProposalDroppedError();
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.MsgForgetLeader:
        // With lease-based reads a follower must not forget a leader that may still hold a lease.
        if (this.readOnly.option === ReadOnlyOption.LeaseBased) return;
        this.lead = NONE;
        return;
      case MessageType.MsgTimeoutNow:
        // Leader transfer: campaign at once, skipping pre-vote and the lease check of the voters.
        this.hup(CampaignType.Transfer);
        return;
      case MessageType.MsgReadIndex:
        if (this.lead === NONE) throw new ProposalDroppedError();
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.MsgReadIndexResp:
        if (m.entries.length !== 1) return;
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
      default:
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index is known to match; tell the leader where we are.
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(
      m.index,
      m.logTerm,
      m.commit,
      m.entries,
      this.cfg.testingKnobs.truncateWithoutConflict === true,
    );
    if (lastNew !== undefined) {
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: lastNew }));
      return;
    }
    // Log mismatch at m.index (§5.3). Hint the largest index <= m.index whose term is <= m.logTerm, so
    // that the leader can skip the mismatching suffix in one round trip.
    const [hintIndex, hintTerm] = this.raftLog.findConflictByTerm(
      Math.min(m.index, this.raftLog.lastIndex()),
      m.logTerm,
    );
    this.send(
      newMessage({
        type: MessageType.MsgAppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hintIndex,
        logTerm: hintTerm,
      }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send(newMessage({ type: MessageType.MsgHeartbeatResp, to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s === undefined) return;
    if (this.restore(s)) {
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
    }
  }

  /**
   * restore installs a snapshot from the leader, if it is newer than our commit index. Returns false
   * when it is ignored (stale, or we already have its last entry, in which case we just commit up to it).
   */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateType.Follower) {
      // Should never happen (only leaders send snapshots, and receiving one makes us a follower).
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const cs = s.metadata.confState;
    const found = [cs.voters, cs.learners, cs.votersOutgoing].some((ids) => ids.includes(this.id));
    if (!found) return false;
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the snapshot's last entry: no need to restore, just fast-forward the commit.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk = new ProgressTracker(this.trk.maxInflight, this.trk.maxInflightBytes);
    const restored = restoreConfState(this.trk, this.raftLog.lastIndex(), cs);
    const got = this.switchToConfig(restored);
    assertConfStatesEquivalent(got, cs);
    return true;
  }

  // ---------------------------------------------------------------- membership

  /** applyConfChange applies a committed conf change to the tracker and returns the new ConfState. */
  applyConfChange(cc: ConfChangeV2): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex());
    let r: ChangeResult;
    if (leaveJoint(cc)) r = changer.leaveJoint();
    else {
      const { joint, autoLeave } = enterJoint(cc);
      r = joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    return this.switchToConfig(r);
  }

  /**
   * switchToConfig installs a configuration and reacts to it: a removed/demoted leader may step down;
   * a leader re-evaluates the commit index (the quorum changed) and catches up new members.
   */
  switchToConfig(r: ChangeResult): ConfState {
    this.trk.config = r.config;
    this.trk.progress = r.progress;
    const cs = this.trk.confState();
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr?.isLearner ?? false;
    if ((pr === undefined || this.isLearner) && this.state === StateType.Leader) {
      // Removed or demoted: with stepDownOnRemoval, step down right away; otherwise keep leading until
      // a new leader emerges (the removed leader no longer counts toward quorums).
      if (this.stepDownOnRemoval) this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.state !== StateType.Leader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else {
      this.trk.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== NONE && !this.trk.config.voters.ids().has(this.leadTransferee)) {
      this.abortLeaderTransfer();
    }
    return cs;
  }

  // ---------------------------------------------------------------- misc

  private sendTimeoutNow(to: bigint): void {
    this.send(newMessage({ type: MessageType.MsgTimeoutNow, to }));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  /** responseToReadIndexReq answers a read-index request locally (readStates) or with a message. */
  private responseToReadIndexReq(req: Message, readIndex: number): Message {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.entries[0]!.data });
      return newMessage({ type: MessageType.MsgReadIndexResp });
    }
    return newMessage({
      type: MessageType.MsgReadIndexResp,
      to: req.from,
      index: readIndex,
      entries: req.entries,
    });
  }

  private sendMsgReadIndexResponse(m: Message): void {
    if (this.readOnly.option === ReadOnlyOption.Safe) {
      this.readOnly.addRequest(this.raftLog.committed, m);
      // The leader acks its own request; the heartbeat round collects the rest.
      this.readOnly.recvAck(this.id, m.entries[0]!.data);
      this.bcastHeartbeatWithCtx(m.entries[0]!.data);
      return;
    }
    const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
    if (resp.to !== NONE) this.send(resp);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendMsgReadIndexResponse(m);
  }

  /** increaseUncommittedSize admits entries if they fit the uncommitted-size limit. */
  private increaseUncommittedSize(ents: Entry[]): boolean {
    let s = 0;
    for (const e of ents) s += payloadSizeBytes(e);
    // A single oversized proposal is still admitted when nothing is uncommitted, to avoid livelock.
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  private reduceUncommittedSize(s: number): void {
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }
}

/** assertConfStatesEquivalent checks that a restored configuration matches the one it came from. */
function assertConfStatesEquivalent(a: ConfState, b: ConfState): void {
  const norm = (cs: ConfState) =>
    JSON.stringify(
      [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].map((ids) =>
        [...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).map(String),
      ),
    ) + String(cs.autoLeave);
  assert(norm(a) === norm(b), () => `ConfStates not equivalent after restore: ${norm(a)} vs ${norm(b)}`);
}
