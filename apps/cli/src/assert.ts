/** assert throws when an invariant does not hold (a bug, not an operating error). */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`etcdctl-ts: assertion failed: ${message}`);
}
