/**
 * UsageError is a bad flag or argument. The message is printed as is (etcd's benchmark wording where it
 * has one, e.g. "expected positive --key-space-size, got (0)") and the process exits with status 1.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** NoLeaderError is raised by `--target-leader` when no endpoint reports itself as the leader. */
export class NoLeaderError extends Error {
  override readonly name = "NoLeaderError";
  constructor(endpoints: readonly string[]) {
    super(`no leader found among endpoints ${endpoints.join(",")}`);
  }
}
