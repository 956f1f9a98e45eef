/**
 * CallBudget: one caller's deadline and signal spread over the several calls of a blocking recipe (lock,
 * campaign). The call that creates the contender key is sent WITHOUT them: a write cut short by the caller's
 * deadline may still be applied, and then the recipe could not know (nor remove) the key it left behind.
 * Every later call gets what is left of the budget.
 */
import type { CallSettings } from "../connection.js";
import { CanceledError, DeadlineExceededError } from "../errors.js";

/** CallBudget tracks what is left of a caller's deadline across calls. */
export class CallBudget {
  private readonly settings: CallSettings;
  private readonly deadline: number | undefined;

  constructor(settings: CallSettings) {
    this.settings = settings;
    this.deadline = settings.timeoutMs === undefined ? undefined : Date.now() + settings.timeoutMs;
  }

  /** unbounded is the caller's settings without deadline and signal (only the endpoint pin stays). */
  unbounded(): CallSettings {
    return this.settings.endpoint === undefined ? {} : { endpoint: this.settings.endpoint };
  }

  /**
   * remaining is the caller's settings with the time that is left; it throws CanceledError when the signal
   * has fired and DeadlineExceededError when the deadline has passed.
   */
  remaining(): CallSettings {
    const signal = this.settings.signal;
    if (signal?.aborted) throw new CanceledError("context canceled", { cause: signal.reason });
    const call = this.unbounded();
    if (signal !== undefined) call.signal = signal;
    if (this.deadline !== undefined) {
      const left = this.deadline - Date.now();
      if (left <= 0) throw new DeadlineExceededError();
      call.timeoutMs = left;
    }
    return call;
  }
}
