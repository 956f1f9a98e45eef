/** AssertionError marks a broken invariant or a programmer error; it is never caught and handled. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** assert throws an AssertionError with `message` when `condition` is false. It stays on in production. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`wal: assertion failed: ${message}`);
}
