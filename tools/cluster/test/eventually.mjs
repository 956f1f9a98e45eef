// eventually: poll a condition until it holds, for tests that wait on real processes. The deadline only bounds
// a hung run; no test asserts how long anything took.

/**
 * eventually calls `probe` until it returns a value other than undefined/false and returns that value, or
 * throws with `what` and the last probe error after `timeoutMs`.
 * @template T
 * @param {string} what
 * @param {() => Promise<T | undefined | false> | T | undefined | false} probe
 * @param {{timeoutMs?: number, intervalMs?: number}} [options]
 * @returns {Promise<T>}
 */
export async function eventually(what, probe, options = {}) {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  /** @type {unknown} */
  let lastError;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${lastError === undefined ? "" : `: ${String(lastError)}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
