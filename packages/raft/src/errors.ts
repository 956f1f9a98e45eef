/**
 * Typed errors of the raft package. Messages carry etcd-io/raft's exact text so that callers (and the
 * server's error table) can match them.
 */

/** RaftError is the base class of every operating error raised by this package. */
export class RaftError extends Error {
  override name = "RaftError";
}

/** CompactedError: the requested index is below the first index of storage (compacted away). */
export class CompactedError extends RaftError {
  override name = "CompactedError";
  constructor() {
    super("requested index is unavailable due to compaction");
  }
}

/** SnapOutOfDateError: a snapshot older than the existing one was offered to storage. */
export class SnapOutOfDateError extends RaftError {
  override name = "SnapOutOfDateError";
  constructor() {
    super("requested index is older than the existing snapshot");
  }
}

/** UnavailableError: the requested entry is beyond the last index of storage. */
export class UnavailableError extends RaftError {
  override name = "UnavailableError";
  constructor() {
    super("requested entry at index is unavailable");
  }
}

/** SnapshotTemporarilyUnavailableError: storage cannot produce a snapshot right now; raft retries later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  override name = "SnapshotTemporarilyUnavailableError";
  constructor() {
    super("snapshot is temporarily unavailable");
  }
}

/** ProposalDroppedError: the proposal was ignored (no leader, transfer in progress, size limit...). */
export class ProposalDroppedError extends RaftError {
  override name = "ProposalDroppedError";
  constructor() {
    super("raft proposal dropped");
  }
}

/** StepLocalMsgError: a local-only message type was given to RawNode.step. */
export class StepLocalMsgError extends RaftError {
  override name = "StepLocalMsgError";
  constructor() {
    super("raft: cannot step raft local message");
  }
}

/** StepPeerNotFoundError: a response came from a node that is not in the configuration. */
export class StepPeerNotFoundError extends RaftError {
  override name = "StepPeerNotFoundError";
  constructor() {
    super("raft: cannot step as peer not found");
  }
}

/** ConfigError: the Config is invalid; the message says which rule it breaks. */
export class ConfigError extends RaftError {
  override name = "ConfigError";
}

/** ConfChangeError: a membership change cannot be applied to the current configuration. */
export class ConfChangeError extends RaftError {
  override name = "ConfChangeError";
}

/** AssertionError: a broken invariant (a bug); never caught by this package. */
export class AssertionError extends Error {
  override name = "AssertionError";
}
