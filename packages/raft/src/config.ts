import { ConfigError } from "./errors.js";
import type { Storage } from "./storage.js";
import type { ReadOnlyOption } from "./types.js";
import { NO_LIMIT, NONE, ReadOnlyOption as ReadOnly } from "./types.js";

/**
 * TestingKnobs switch on deliberately broken behaviour so that tests can prove the simulation catches
 * it ("planted bugs"). Never set them outside tests.
 */
export interface TestingKnobs {
  /** Commit an entry of a previous term by counting replicas (breaks §5.4.2). */
  commitPreviousTermByCounting?: boolean;
  /** Grant votes without the log up-to-date check (breaks §5.4.1). */
  voteWithoutLogCheck?: boolean;
  /** Followers replace their log tail on every append, even without a conflict (truncates committed entries). */
  truncateWithoutConflict?: boolean;
}

/** Config configures a Raft node. Only `id`, `electionTick`, `heartbeatTick`, `storage` and `random` are required. */
export interface Config {
  /** This node's id; must not be 0n. */
  id: bigint;
  /**
   * Ticks without hearing from a leader before a follower campaigns. The actual timeout is randomized
   * in [electionTick, 2*electionTick). Must be greater than heartbeatTick (etcd suggests 10x).
   */
  electionTick: number;
  /** Ticks between heartbeats sent by a leader. */
  heartbeatTick: number;
  /** The node's stable log; raft only reads it. */
  storage: Storage;
  /** Last applied index when restarting; raft will not hand out entries at or below it again. */
  applied?: number;
  /** Upper bound on the entry bytes of one MsgApp (0: one entry per message). Default: unbounded. */
  maxSizePerMsg?: number;
  /** Upper bound on the committed entry bytes handed out by one Ready. Default: maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /** Upper bound on the payload bytes of uncommitted entries on a leader; beyond it proposals are dropped. 0 = unbounded. */
  maxUncommittedEntriesSize?: number;
  /** Upper bound on MsgApps in flight to one follower (in Replicate state). Required > 0; default 256. */
  maxInflightMsgs?: number;
  /** Upper bound on the bytes of MsgApps in flight to one follower; 0 = unbounded. */
  maxInflightBytes?: number;
  /** The leader steps down when it has not heard from a quorum within an election timeout. */
  checkQuorum?: boolean;
  /** Run a pre-election (no term bump) before a real one, so partitioned nodes cannot disrupt. */
  preVote?: boolean;
  /** How ReadIndex is served. LeaseBased requires checkQuorum. */
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** A leader removed from (or demoted in) the configuration steps down when the change is applied. */
  stepDownOnRemoval?: boolean;
  /** Random integer in [0, n): the only source of randomness (randomized election timeout). */
  random: (n: number) => number;
  /** Test-only broken behaviours; see {@link TestingKnobs}. */
  testingKnobs?: TestingKnobs;
}

/** ResolvedConfig is a validated Config with every default filled in. */
export type ResolvedConfig = Required<Omit<Config, "testingKnobs">> & { testingKnobs: TestingKnobs };

/** DEFAULT_MAX_INFLIGHT_MSGS is the inflight window used when none is configured. */
export const DEFAULT_MAX_INFLIGHT_MSGS = 256;

function positiveInt(v: number, name: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError(`${name} must be a non-negative integer`);
}

/** validateConfig checks a Config and fills in defaults; throws {@link ConfigError} with etcd's text. */
export function validateConfig(c: Config): ResolvedConfig {
  if (c.id === NONE) throw new ConfigError("cannot use none as id");
  if (!Number.isSafeInteger(c.heartbeatTick) || c.heartbeatTick <= 0) {
    throw new ConfigError("heartbeat tick must be greater than 0");
  }
  if (!Number.isSafeInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    throw new ConfigError("election tick must be greater than heartbeat tick");
  }
  if (c.storage === undefined || c.storage === null) throw new ConfigError("storage cannot be nil");
  if (typeof c.random !== "function") throw new ConfigError("random must be a function");
  const maxSizePerMsg = c.maxSizePerMsg ?? NO_LIMIT;
  positiveInt(maxSizePerMsg, "max size per msg");
  const maxUncommitted = c.maxUncommittedEntriesSize || NO_LIMIT;
  positiveInt(maxUncommitted, "max uncommitted entries size");
  const maxCommittedSizePerReady = c.maxCommittedSizePerReady || maxSizePerMsg;
  positiveInt(maxCommittedSizePerReady, "max committed size per ready");
  const maxInflightMsgs = c.maxInflightMsgs ?? DEFAULT_MAX_INFLIGHT_MSGS;
  if (!Number.isSafeInteger(maxInflightMsgs) || maxInflightMsgs <= 0) {
    throw new ConfigError("max inflight messages must be greater than 0");
  }
  const maxInflightBytes = c.maxInflightBytes ?? 0;
  positiveInt(maxInflightBytes, "max inflight bytes");
  if (maxInflightBytes !== 0 && maxInflightBytes < maxSizePerMsg) {
    throw new ConfigError("max inflight bytes must be >= max message size");
  }
  const readOnlyOption = c.readOnlyOption ?? ReadOnly.Safe;
  if (readOnlyOption === ReadOnly.LeaseBased && !c.checkQuorum) {
    throw new ConfigError("CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased");
  }
  const applied = c.applied ?? 0;
  positiveInt(applied, "applied");
  return {
    id: c.id,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    storage: c.storage,
    applied,
    maxSizePerMsg,
    maxCommittedSizePerReady,
    maxUncommittedEntriesSize: maxUncommitted,
    maxInflightMsgs,
    maxInflightBytes,
    checkQuorum: c.checkQuorum ?? false,
    preVote: c.preVote ?? false,
    readOnlyOption,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    stepDownOnRemoval: c.stepDownOnRemoval ?? false,
    random: c.random,
    testingKnobs: c.testingKnobs ?? {},
  };
}
