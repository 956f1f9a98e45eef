/**
 * Backoff between retries: exponential with "equal jitter" (a uniform pick in [cap/2, cap]), so that many
 * clients that lost the same member do not come back in lockstep.
 */

/** BackoffOptions bounds the wait between attempts. */
export interface BackoffOptions {
  /** initialMs is the cap for the first retry (default 50). */
  initialMs?: number;
  /** maxMs is the largest wait ever chosen (default 2000). */
  maxMs?: number;
}

/** DEFAULT_BACKOFF holds the defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 50, maxMs: 2_000 };

/**
 * backoffMs is the wait before retry number `attempt` (0-based): a uniform pick in
 * [cap/2, cap] where cap = min(maxMs, initialMs * 2^attempt). `random` returns values in [0, 1).
 */
export function backoffMs(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const cap = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.floor(cap / 2 + (random() * cap) / 2);
}
