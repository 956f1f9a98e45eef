import { assert } from "./assert.js";
import { LeaseTtlTooLargeError } from "./errors.js";

/** MAX_LEASE_TTL_SECONDS is etcd's upper bound on a lease TTL (9e9 seconds, about 285 years). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

/**
 * minLeaseTtlSeconds is the shortest TTL a lease may have: 1.5 election timeouts rounded up to a second, so
 * that a leader change (which takes up to an election timeout) cannot by itself outlive a lease. With etcd's
 * default election timeout of 1000 ms it is 2 seconds.
 */
export function minLeaseTtlSeconds(electionTimeoutMs: number): number {
  assert(
    Number.isFinite(electionTimeoutMs) && electionTimeoutMs > 0,
    `bad election timeout ${electionTimeoutMs}`,
  );
  return Math.ceil((3 * electionTimeoutMs) / 2 / 1000);
}

/**
 * grantTtlSeconds checks a requested TTL (a wire int64 or a number of seconds) and raises it to `minSeconds`.
 * Throws {@link LeaseTtlTooLargeError} above {@link MAX_LEASE_TTL_SECONDS}; zero and negative TTLs are
 * raised to the minimum, as etcd does.
 */
export function grantTtlSeconds(requested: number | bigint, minSeconds: number): number {
  if (typeof requested === "bigint") {
    if (requested > BigInt(MAX_LEASE_TTL_SECONDS)) {
      throw new LeaseTtlTooLargeError();
    }
    return Math.max(Number(requested < 0n ? 0n : requested), minSeconds);
  }
  assert(Number.isSafeInteger(requested), `TTL ${requested} is not a whole number of seconds`);
  if (requested > MAX_LEASE_TTL_SECONDS) {
    throw new LeaseTtlTooLargeError();
  }
  return Math.max(requested, minSeconds);
}
