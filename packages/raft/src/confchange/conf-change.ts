import type { ConfChange, ConfChangeV2 } from "../types.js";
import { ConfChangeTransition } from "../types.js";

/** asV2 converts a v1 ConfChange into the equivalent single-change ConfChangeV2. */
export function asV2(cc: ConfChange | ConfChangeV2): ConfChangeV2 {
  if ("changes" in cc) return cc;
  return {
    transition: ConfChangeTransition.Auto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/**
 * enterJoint reports whether the change must use joint consensus and, if so, whether the joint config is
 * left automatically. A single change with the Auto transition is applied directly.
 */
export function enterJoint(cc: ConfChangeV2): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    return { joint: true, autoLeave: cc.transition !== ConfChangeTransition.JointExplicit };
  }
  return { joint: false, autoLeave: false };
}

/** leaveJoint reports whether cc is the empty change that leaves a joint configuration. */
export function leaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0;
}
