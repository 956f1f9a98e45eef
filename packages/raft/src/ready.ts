import {
  type Entry,
  type HardState,
  type Message,
  MessageType,
  type ReadState,
  type Snapshot,
  type SoftState,
  StateType,
} from "./types.js";

/**
 * Ready is one batch of work raft hands to the driver. Handle it in this order, then call
 * `RawNode.advance()` before asking for the next one:
 *
 * 1. Persist: write `snapshot` (if any), then append `entries`, then save `hardState` (if any) to
 *    stable storage, and make them visible through the Storage raft reads. If `mustSync`, fsync.
 * 2. Send `messages`, only AFTER step 1 is durable: some of them (vote grants, append acks) promise
 *    that what step 1 wrote is on disk. (A leader may send its MsgApp, MsgHeartbeat, MsgSnap and
 *    MsgTimeoutNow in parallel with its own write; they promise nothing about its disk.)
 * 3. Apply `snapshot` (if any) and then `committedEntries` to the state machine, in order. A
 *    ConfChange/ConfChangeV2 entry is applied by decoding it and calling `RawNode.applyConfChange`.
 * 4. Serve `readStates`: a read for `requestCtx` is linearizable once `index` is applied.
 * 5. Call `advance()`.
 */
export interface Ready {
  /** The new volatile state (leader, role) if it changed since the previous Ready. */
  softState: SoftState | undefined;
  /** The new HardState to persist, if it changed since the previous Ready. */
  hardState: HardState | undefined;
  /** ReadIndex answers that became available. */
  readStates: ReadState[];
  /** Entries to append to stable storage BEFORE sending messages. */
  entries: Entry[];
  /** Snapshot to persist (and then apply), if any. */
  snapshot: Snapshot | undefined;
  /** Committed entries to apply, in order. They were persisted before (or are in `entries`). */
  committedEntries: Entry[];
  /** Messages to send AFTER entries, hardState and snapshot are persisted. */
  messages: Message[];
  /** Whether the write of step 1 must be synced to disk (term, vote or entries changed). */
  mustSync: boolean;
}

/** isEmptyReady reports whether a Ready carries no work at all. */
export function isEmptyReady(rd: Ready): boolean {
  return (
    rd.softState === undefined &&
    rd.hardState === undefined &&
    rd.readStates.length === 0 &&
    rd.entries.length === 0 &&
    rd.snapshot === undefined &&
    rd.committedEntries.length === 0 &&
    rd.messages.length === 0
  );
}

const leaderParallel: ReadonlySet<MessageType> = new Set<MessageType>([
  MessageType.MsgApp,
  MessageType.MsgHeartbeat,
  MessageType.MsgSnap,
  MessageType.MsgTimeoutNow,
]);

/**
 * messagesBeforePersist picks the messages of `rd` that may be sent while `rd` is still being persisted
 * (raft thesis 10.2.1: the leader writes to its disk in parallel with its followers). Only a leader's own
 * MsgApp, MsgHeartbeat, MsgSnap and MsgTimeoutNow qualify: they promise nothing about its disk. None do
 * when the node is not leader, or when the Ready changes the term or vote on disk (`persisted`): a
 * single-voter leader wins its term in the same Ready, and its appends must not reach learners in a term
 * a crash could forget. Nor does a message whose commit index covers an entry of this Ready: the leader
 * counts its own copy toward the quorum as soon as it appends, so a single voter commits an entry before
 * writing it, and a learner told so could apply an entry that a crash then erases. The rest of
 * `rd.messages` waits for the write, as always.
 */
export function messagesBeforePersist(
  rd: Ready,
  state: StateType,
  persisted: Pick<HardState, "term" | "vote">,
): Message[] {
  if (state !== StateType.Leader) return [];
  const hs = rd.hardState;
  if (hs !== undefined && (hs.term !== persisted.term || hs.vote !== persisted.vote)) return [];
  const firstUnwritten = rd.entries[0]?.index ?? Number.POSITIVE_INFINITY;
  return rd.messages.filter((m) => leaderParallel.has(m.type) && m.commit < firstUnwritten);
}
