/**
 * AssertionError is thrown by {@link assert} when an invariant does not hold. It signals a programmer error
 * or corrupted state, never bad input: callers must not catch it to carry on.
 */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

/**
 * assert throws an {@link AssertionError} carrying `message` unless `condition` holds. Assertions stay on in
 * production: a lessor whose invariants are broken must stop rather than revoke the wrong leases.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new AssertionError(`lease: ${message}`);
  }
}
