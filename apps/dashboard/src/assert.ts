/** AssertionError marks a broken invariant of the dashboard (a bug), never an operating error. */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

/** assert throws an {@link AssertionError} with `message` when `condition` is false. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
