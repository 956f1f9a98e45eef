/** AssertionError is thrown when an invariant of the robustness tool itself is broken (a bug here). */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** assert throws an AssertionError with `message` when `condition` is false. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
