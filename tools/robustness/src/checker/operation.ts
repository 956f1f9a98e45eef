/**
 * Operation is one client request in a history: invoked at `call`, answered at `return`. An operation
 * whose outcome is unknown (a failed or timed-out write) has `output: undefined` and `return: Infinity`:
 * it may have taken effect at any point after `call`, or never.
 */
export interface Operation<I, O> {
  readonly clientId: number;
  readonly input: I;
  /** call is when the client sent the request (any monotonic clock, e.g. ms from the run start). */
  readonly call: number;
  readonly output: O | undefined;
  /** return is when the answer arrived; Infinity for an open-ended operation. */
  readonly return: number;
}

/**
 * Model is a sequential specification for the WGL search. `step` applies one operation to a state and
 * says whether the observed output is legal there (undefined = illegal). For an open-ended operation
 * (`output` undefined) it returns the state as if the request took effect. States are immutable.
 */
export interface Model<S, I, O> {
  init(): S;
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** key is equal for two states exactly when they behave the same from here on (memoisation). */
  key(state: S): string;
  describeOperation(input: I, output: O | undefined): string;
  describeState(state: S): string;
}

/** CheckVerdict is the outcome of a linearizability check. */
export type CheckVerdict = "ok" | "illegal" | "unknown";
