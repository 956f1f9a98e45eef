import { AssertionError } from "./errors.js";

/**
 * assert throws an {@link AssertionError} when `cond` is false. It guards programmer errors and broken
 * invariants (never operating errors) and stays on in production.
 */
export function assert(cond: boolean, msg: string | (() => string)): asserts cond {
  if (!cond) throw new AssertionError(typeof msg === "string" ? msg : msg());
}
