import { assert } from "./assert.js";
import {
  type Entry,
  entrySizeBytes,
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

/**
 * coalesceMessages merges, per recipient, the replication messages of one batch that say the same thing in
 * fewer words; the driver may call it on whatever it is about to send (raft itself emits one MsgApp per
 * proposal and one more per commit advance, and under load a Ready holds several for each follower, every
 * one of which the follower would answer):
 *
 * - a MsgApp that continues the previous MsgApp to the same node (same term, its `index`/`logTerm` are
 *   that message's last entry) joins it: the entries are concatenated and the later commit index kept,
 *   as long as the joined entries stay within `maxSizeBytes` (raft's `maxSizePerMsg`: with 0, one entry
 *   per message, no entries join); a message with no entries always joins;
 * - of consecutive accepting MsgAppResp to the same node (same term), only the last is kept when its index
 *   is at least the earlier one's: the leader's progress takes the highest acknowledged index anyway.
 *
 * Any other message to a node ends its run (nothing is merged across it), so every message keeps its
 * place relative to the recipient's other traffic. The result is a new array; merged messages are new
 * objects, the others are passed through. Raft's safety never depends on this: it is equivalent to the
 * network delivering the merged message instead of the parts.
 */
export function coalesceMessages(messages: readonly Message[], maxSizeBytes: number): Message[] {
  assert(Number.isSafeInteger(maxSizeBytes) && maxSizeBytes >= 0, "coalesceMessages needs a size limit");
  if (messages.length < 2) return messages.slice();
  const out: Array<Message | undefined> = [];
  /** The position in `out` of the open run per recipient (a MsgApp or MsgAppResp that may still grow). */
  const open = new Map<bigint, { at: number; bytes: number }>();
  for (const m of messages) {
    const run = open.get(m.to);
    const prev = run === undefined ? undefined : out[run.at];
    if (run !== undefined && prev !== undefined && prev.term === m.term) {
      if (m.type === MessageType.MsgApp && prev.type === MessageType.MsgApp && continues(prev, m)) {
        const bytes = sizeOf(m.entries);
        if (m.entries.length === 0 || run.bytes + bytes <= maxSizeBytes) {
          out[run.at] = {
            ...prev,
            entries: m.entries.length === 0 ? prev.entries : prev.entries.concat(m.entries),
            commit: Math.max(prev.commit, m.commit),
          };
          run.bytes += bytes;
          continue;
        }
      }
      if (isAck(m) && isAck(prev) && m.index >= prev.index) {
        out[run.at] = undefined; // the later ack says everything the earlier one did
        out.push(m);
        open.set(m.to, { at: out.length - 1, bytes: 0 });
        continue;
      }
    }
    out.push(m);
    if (m.type === MessageType.MsgApp || isAck(m)) {
      open.set(m.to, { at: out.length - 1, bytes: sizeOf(m.entries) });
    } else {
      open.delete(m.to);
    }
  }
  return out.filter((m): m is Message => m !== undefined);
}

/** continues reports whether MsgApp `next` starts right after the last entry of MsgApp `prev`. */
function continues(prev: Message, next: Message): boolean {
  const last = prev.entries[prev.entries.length - 1];
  const endIndex = prev.index + prev.entries.length;
  const endTerm = last === undefined ? prev.logTerm : last.term;
  return next.index === endIndex && next.logTerm === endTerm && next.snapshot === undefined;
}

function isAck(m: Message): boolean {
  return m.type === MessageType.MsgAppResp && !m.reject;
}

function sizeOf(entries: readonly Entry[]): number {
  let bytes = 0;
  for (const e of entries) bytes += entrySizeBytes(e);
  return bytes;
}
