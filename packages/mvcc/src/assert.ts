/**
 * assert throws when an invariant does not hold. It is for programmer errors and broken invariants, never for
 * bad input (those are typed errors from errors.ts). It stays on in production.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new Error(`mvcc: assertion failed: ${message}`);
  }
}
