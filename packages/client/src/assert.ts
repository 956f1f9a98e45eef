/**
 * assert throws when an invariant of this package is broken. It is for programmer errors only; operating errors
 * (a server that is down, a compacted revision) are typed errors from errors.ts.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new Error(`@etcd-ts/client: assertion failed: ${message}`);
  }
}
