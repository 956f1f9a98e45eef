/**
 * AssertionError marks a broken invariant or a programmer error. It is not an operating error: it is never
 * caught and turned into a response; the process crashes with the message (TIGER_STYLE).
 */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

/** assert throws an AssertionError when `condition` is false. It stays on in production. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
