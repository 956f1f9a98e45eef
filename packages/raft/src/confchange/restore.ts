import type { ProgressTracker } from "../tracker/tracker.js";
import type { ConfChangeSingle, ConfState } from "../types.js";
import { ConfChangeType } from "../types.js";
import type { ChangeResult } from "./changer.js";
import { Changer } from "./changer.js";

/**
 * restoreConfState rebuilds the configuration described by a ConfState (from a snapshot or storage),
 * by replaying changes through the Changer so that every rule is checked. A joint state is rebuilt as
 * "outgoing config, then enter joint with the incoming one".
 */
export function restoreConfState(
  tracker: Pick<ProgressTracker, "config" | "progress" | "maxInflight" | "maxInflightBytes">,
  lastIndex: number,
  cs: ConfState,
): ChangeResult {
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map((id) => ({
    type: ConfChangeType.AddNode,
    nodeId: id,
  }));
  // The incoming config is reached from the outgoing one by first removing the outgoing voters, then
  // adding voters, learners and the staged learners (learnersNext are outgoing voters turned learners).
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((id) => ({ type: ConfChangeType.RemoveNode, nodeId: id })),
    ...cs.voters.map((id) => ({ type: ConfChangeType.AddNode, nodeId: id })),
    ...cs.learners.map((id) => ({ type: ConfChangeType.AddLearnerNode, nodeId: id })),
    ...cs.learnersNext.map((id) => ({ type: ConfChangeType.AddLearnerNode, nodeId: id })),
  ];
  let state: Pick<ProgressTracker, "config" | "progress" | "maxInflight" | "maxInflightBytes"> = tracker;
  const step = (f: (c: Changer) => ChangeResult) => {
    const r = f(new Changer(state, lastIndex));
    state = { ...r, maxInflight: tracker.maxInflight, maxInflightBytes: tracker.maxInflightBytes };
  };
  if (outgoing.length === 0) {
    for (const cc of incoming) step((c) => c.simple([cc]));
  } else {
    for (const cc of outgoing) step((c) => c.simple([cc]));
    step((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  return { config: state.config, progress: state.progress };
}
