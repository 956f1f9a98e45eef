import { decodeConfChange, decodeConfChangeV2 } from "../confchange/codec.js";
import type { ConfChangeSingle, ConfState, Entry, HardState, Message, Snapshot } from "../types.js";
import { ConfChangeTransition, ConfChangeType, EntryType, messageTypeName } from "../types.js";

const dec = new TextDecoder();
const entryTypeNames = ["EntryNormal", "EntryConfChange", "EntryConfChangeV2"];

function changeString(c: ConfChangeSingle): string {
  const prefix = {
    [ConfChangeType.AddNode]: "v",
    [ConfChangeType.AddLearnerNode]: "l",
    [ConfChangeType.RemoveNode]: "r",
    [ConfChangeType.UpdateNode]: "u",
  }[c.type];
  return `${prefix}${c.nodeId}`;
}

/** describeEntry renders an entry as `term/index Type data`. */
export function describeEntry(e: Entry): string {
  let data: string;
  if (e.type === EntryType.ConfChange) {
    const cc = decodeConfChange(e.data);
    data = changeString({ type: cc.type, nodeId: cc.nodeId });
  } else if (e.type === EntryType.ConfChangeV2) {
    const cc = decodeConfChangeV2(e.data);
    const t =
      cc.transition === ConfChangeTransition.JointImplicit
        ? " implicit"
        : cc.transition === ConfChangeTransition.JointExplicit
          ? " explicit"
          : "";
    data = cc.changes.length === 0 ? "leave-joint" : cc.changes.map(changeString).join(" ") + t;
  } else {
    data = JSON.stringify(dec.decode(e.data));
  }
  return `${e.term}/${e.index} ${entryTypeNames[e.type]} ${data}`;
}

/** describeConfState renders a ConfState like etcd: `Voters:[1 2] VotersOutgoing:[] Learners:[] ...`. */
export function describeConfState(cs: ConfState): string {
  const l = (ids: bigint[]) => `[${ids.join(" ")}]`;
  return `Voters:${l(cs.voters)} VotersOutgoing:${l(cs.votersOutgoing)} Learners:${l(cs.learners)} LearnersNext:${l(cs.learnersNext)} AutoLeave:${cs.autoLeave}`;
}

/** describeSnapshot renders snapshot metadata. */
export function describeSnapshot(s: Snapshot): string {
  return `Index:${s.metadata.index} Term:${s.metadata.term} ConfState:${describeConfState(s.metadata.confState)}`;
}

/** describeHardState renders a HardState. */
export function describeHardState(hs: HardState): string {
  return `Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`;
}

/** describeMessage renders a message on one line. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${messageTypeName(m.type)} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(", ")}]`;
  if (m.snapshot) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  if (m.context.byteLength > 0) s += ` Context:${JSON.stringify(dec.decode(m.context))}`;
  return s;
}
