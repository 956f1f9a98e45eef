import { assert } from "../assert.js";
import { ConfChangeError } from "../errors.js";
import { MajorityConfig } from "../quorum/majority.js";
import { Inflights } from "../tracker/inflights.js";
import { Progress } from "../tracker/progress.js";
import type { ProgressMap, ProgressTracker, TrackerConfig } from "../tracker/tracker.js";
import type { ConfChangeSingle } from "../types.js";
import { ConfChangeType } from "../types.js";

/** ChangeResult is a new configuration and the progress map that goes with it. */
export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

/**
 * Changer computes the configuration that results from a membership change, without touching the
 * tracker it reads from. It enforces the rules of single-step changes (at most one voter added or
 * removed) and of joint consensus (enter with any changes, then leave).
 */
export class Changer {
  constructor(
    private readonly tracker: Pick<
      ProgressTracker,
      "config" | "progress" | "maxInflight" | "maxInflightBytes"
    >,
    /** The leader's last index: new members start probing from here. */
    private readonly lastIndex: number,
  ) {}

  /**
   * enterJoint moves to the joint configuration (old voters as outgoing, old voters + changes as
   * incoming). With `autoLeave`, raft leaves it on its own once it is applied.
   */
  enterJoint(autoLeave: boolean, changes: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.isJoint()) throw new ConfChangeError("config is already joint");
    if (config.voters.incoming.size === 0) {
      // A zero-voter config has no quorum; it cannot be the outgoing half of anything.
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    config.voters.outgoing = config.voters.incoming.clone();
    this.apply(config, progress, changes);
    config.autoLeave = autoLeave;
    return this.checkAndReturn(config, progress);
  }

  /**
   * leaveJoint moves from the joint configuration to its incoming half: learnersNext become learners and
   * nodes only in the outgoing half are dropped.
   */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (!config.voters.isJoint()) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      const pr = progress.get(id);
      assert(pr !== undefined, `learnersNext ${id} has no progress`);
      pr.isLearner = true;
    }
    config.learnersNext = new Set();
    for (const id of config.voters.outgoing.ids) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
    }
    config.voters.outgoing = new MajorityConfig();
    config.autoLeave = false;
    return this.checkAndReturn(config, progress);
  }

  /**
   * simple applies changes that add or remove at most one voter, which is safe without joint consensus
   * because any majority of the old config then overlaps any majority of the new one.
   */
  simple(changes: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.isJoint())
      throw new ConfChangeError("can't apply simple config change in joint config");
    const before = new Set(config.voters.incoming.ids);
    this.apply(config, progress, changes);
    const after = config.voters.incoming.ids;
    let diff = 0;
    for (const id of before) if (!after.has(id)) diff++;
    for (const id of after) if (!before.has(id)) diff++;
    if (diff > 1) throw new ConfChangeError("more than one voter changed without entering joint config");
    return this.checkAndReturn(config, progress);
  }

  private apply(config: TrackerConfig, progress: ProgressMap, changes: ConfChangeSingle[]): void {
    for (const cc of changes) {
      if (cc.nodeId === 0n) continue; // etcd uses id 0 for no-op changes
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(config, progress, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(config, progress, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          this.remove(config, progress, cc.nodeId);
          break;
        case ConfChangeType.UpdateNode:
          break;
        default:
          throw new ConfChangeError(`unexpected conf type ${cc.type}`);
      }
    }
    if (config.voters.incoming.size === 0) throw new ConfChangeError("removed all voters");
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters.incoming.ids.add(id);
  }

  /**
   * makeLearner turns id into a learner. A voter of the outgoing config cannot be demoted while it is
   * still needed for the outgoing quorum, so it is staged in learnersNext instead.
   */
  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    this.remove(config, progress, id);
    // remove() may have dropped the progress; keep the existing one.
    progress.set(id, pr);
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private remove(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    if (!progress.has(id)) return;
    config.voters.incoming.ids.delete(id);
    config.learners.delete(id);
    config.learnersNext.delete(id);
    // A node still in the outgoing half keeps its progress until the joint config is left.
    if (!config.voters.outgoing.has(id)) progress.delete(id);
  }

  private initProgress(config: TrackerConfig, progress: ProgressMap, id: bigint, isLearner: boolean): void {
    if (isLearner) config.learners.add(id);
    else config.voters.incoming.ids.add(id);
    const pr = new Progress(
      Math.max(this.lastIndex, 1),
      new Inflights(this.tracker.maxInflight, this.tracker.maxInflightBytes),
      isLearner,
    );
    // A new node counts as active so that CheckQuorum does not step down right after adding it.
    pr.recentActive = true;
    progress.set(id, pr);
  }

  private checkAndCopy(): ChangeResult {
    const config = this.tracker.config.clone();
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) progress.set(id, pr.clone());
    checkInvariants(config, progress);
    return { config, progress };
  }

  private checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
    checkInvariants(config, progress);
    return { config, progress };
  }
}

/** checkInvariants throws when a configuration and its progress map disagree. */
export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  for (const ids of [config.voters.ids(), config.learners, config.learnersNext]) {
    for (const id of ids) {
      if (!progress.has(id)) throw new ConfChangeError(`no progress for ${id}`);
    }
  }
  for (const id of config.learnersNext) {
    if (!config.voters.outgoing.has(id))
      throw new ConfChangeError(`${id} is in LearnersNext, but not Voters[1]`);
    if (progress.get(id)!.isLearner)
      throw new ConfChangeError(`${id} is in LearnersNext, but is already marked as learner`);
  }
  for (const id of config.learners) {
    if (config.voters.outgoing.has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[1]`);
    if (config.voters.incoming.has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[0]`);
    if (!progress.get(id)!.isLearner)
      throw new ConfChangeError(`${id} is in Learners, but is not marked as learner`);
  }
  if (!config.voters.isJoint()) {
    if (config.learnersNext.size > 0)
      throw new ConfChangeError("cfg.LearnersNext must be nil when not joint");
    if (config.autoLeave) throw new ConfChangeError("AutoLeave must be false when not joint");
  }
}
