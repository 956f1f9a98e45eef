/**
 * assert throws when an invariant does not hold. It is for programmer errors and broken invariants, never
 * for bad input from a client (those are {@link AuthError}s); it stays on in production.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new Error(`auth: assertion failed: ${message}`);
  }
}
