import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProgressTracker } from "../tracker/tracker.js";
import type { ConfChange, ConfChangeSingle, ConfChangeV2 } from "../types.js";
import { ConfChangeType } from "../types.js";
import { Changer } from "./changer.js";
import { decodeConfChange, decodeConfChangeV2, encodeConfChange, encodeConfChangeV2 } from "./codec.js";
import { restoreConfState } from "./restore.js";

const add = (id: bigint): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId: id });
const learner = (id: bigint): ConfChangeSingle => ({ type: ConfChangeType.AddLearnerNode, nodeId: id });
const remove = (id: bigint): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId: id });

function tracker(): ProgressTracker {
  return new ProgressTracker(10, 0);
}

function applyTo(
  t: ProgressTracker,
  r: { config: ProgressTracker["config"]; progress: ProgressTracker["progress"] },
) {
  t.config = r.config;
  t.progress = r.progress;
}

describe("Changer", () => {
  it("simple changes add and remove one voter at a time", () => {
    const t = tracker();
    applyTo(t, new Changer(t, 10).simple([add(1n)]));
    applyTo(t, new Changer(t, 10).simple([add(2n), learner(3n)]));
    expect(t.config.toString()).toBe("voters=(1 2) learners=(3)");
    expect(() => new Changer(t, 10).simple([add(4n), add(5n)])).toThrow(
      "more than one voter changed without entering joint config",
    );
    expect(() => new Changer(t, 10).simple([remove(1n), remove(2n)])).toThrow();
    applyTo(t, new Changer(t, 10).simple([remove(3n)]));
    expect(t.progress.has(3n)).toBe(false);
  });

  it("refuses to remove all voters", () => {
    const t = tracker();
    applyTo(t, new Changer(t, 10).simple([add(1n)]));
    expect(() => new Changer(t, 10).simple([remove(1n)])).toThrow("removed all voters");
  });

  it("joint consensus: enter with many changes, demoted voters wait in learnersNext, leave", () => {
    const t = tracker();
    for (const id of [1n, 2n, 3n]) applyTo(t, new Changer(t, 10).simple([add(id)]));
    applyTo(t, new Changer(t, 10).enterJoint(true, [add(4n), learner(3n), remove(2n)]));
    expect(t.config.toString()).toBe("voters=(1 4)&&(1 2 3) learners_next=(3) autoleave");
    expect(() => new Changer(t, 10).enterJoint(false, [add(5n)])).toThrow("config is already joint");
    expect(() => new Changer(t, 10).simple([add(5n)])).toThrow(
      "can't apply simple config change in joint config",
    );
    applyTo(t, new Changer(t, 10).leaveJoint());
    expect(t.config.toString()).toBe("voters=(1 4) learners=(3)");
    expect(t.progress.has(2n)).toBe(false);
    expect(t.progress.get(3n)!.isLearner).toBe(true);
    expect(() => new Changer(t, 10).leaveJoint()).toThrow("can't leave a non-joint config");
  });

  it("restore rebuilds any reachable configuration from its ConfState (property)", () => {
    const idArb = fc.bigInt({ min: 1n, max: 6n });
    const changeArb = fc.record({
      type: fc.constantFrom(ConfChangeType.AddNode, ConfChangeType.AddLearnerNode, ConfChangeType.RemoveNode),
      nodeId: idArb,
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.array(changeArb, { minLength: 1, maxLength: 3 })), {
          maxLength: 8,
        }),
        (steps) => {
          const t = tracker();
          applyTo(t, new Changer(t, 10).simple([add(1n)]));
          for (const [joint, ccs] of steps) {
            try {
              const c = new Changer(t, 10);
              if (t.config.voters.isJoint()) applyTo(t, c.leaveJoint());
              else applyTo(t, joint ? c.enterJoint(false, ccs) : c.simple(ccs));
            } catch {
              // Invalid change: the tracker is unchanged.
            }
          }
          const cs = t.confState();
          const r = restoreConfState(tracker(), 10, cs);
          const t2 = tracker();
          applyTo(t2, r);
          expect(t2.confState()).toEqual(cs);
        },
      ),
    );
  });
});

describe("conf change codec", () => {
  it("round-trips ConfChange and ConfChangeV2", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.constantFrom(0, 1, 2, 3),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.uint8Array({ maxLength: 20 }),
        (id, type, nodeId, context) => {
          const cc: ConfChange = { id, type: type as ConfChange["type"], nodeId, context };
          expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
          const v2: ConfChangeV2 = {
            transition: 1,
            changes: [{ type: type as ConfChange["type"], nodeId }],
            context,
          };
          expect(decodeConfChangeV2(encodeConfChangeV2(v2))).toEqual(v2);
        },
      ),
    );
  });

  it("encodes as raftpb does (golden bytes)", () => {
    // ConfChange{ID: 1, Type: AddNode, NodeID: 2}: 08 01 10 00 18 02
    expect([...encodeConfChange({ id: 1n, type: 0, nodeId: 2n, context: new Uint8Array() })]).toEqual([
      8, 1, 16, 0, 24, 2,
    ]);
    // ConfChangeV2{Changes: [{Type: RemoveNode, NodeID: 3}]}: 08 00 12 04 08 01 10 03
    expect([
      ...encodeConfChangeV2({ transition: 0, changes: [{ type: 1, nodeId: 3n }], context: new Uint8Array() }),
    ]).toEqual([8, 0, 18, 4, 8, 1, 16, 3]);
    expect(decodeConfChangeV2(new Uint8Array())).toEqual({
      transition: 0,
      changes: [],
      context: new Uint8Array(),
    });
  });
});
