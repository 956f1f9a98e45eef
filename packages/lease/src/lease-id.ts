import { assert } from "./assert.js";

/**
 * LeaseId identifies a lease. It is an int64 on the wire (bigint in protobuf-es), never 0 (0 means "no
 * lease" on a key and "server chooses" in a grant). Branded so that it is not mixed up with revisions.
 */
export type LeaseId = bigint & { readonly __brand: "LeaseId" };

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MASK = (1n << 64n) - 1n;

/** NO_LEASE is the lease id 0: a key without a lease, or a grant that lets the server choose. */
export const NO_LEASE = 0n;

/**
 * leaseId converts a wire int64 into a {@link LeaseId}, asserting that it is a non-zero int64. Convert at the
 * protocol edge; the server must reject 0 itself where etcd does.
 */
export function leaseId(value: bigint): LeaseId {
  assert(value !== NO_LEASE, "lease id 0 is not a lease");
  assert(value >= INT64_MIN && value <= INT64_MAX, `lease id ${value} is not an int64`);
  return value as LeaseId;
}

/** formatLeaseId renders an id as etcdctl does: lower-case hex of its 64-bit two's complement. */
export function formatLeaseId(id: LeaseId): string {
  return (BigInt.asUintN(64, id) & UINT64_MASK).toString(16);
}

/**
 * deriveLeaseId returns the `attempt`-th candidate id for a grant with id 0 applied at raft index
 * `raftIndex`. Every member applies the same entry at the same index with the same lease set, so picking
 * the first candidate not in use gives the same id everywhere without any coordination. The index is
 * scrambled by a 64-bit mixing function (a bijection) so that ids look random like etcd's, and masked to a
 * positive int63 so that clients that print them as signed numbers see no minus sign.
 */
export function deriveLeaseId(raftIndex: number, attempt: number): LeaseId | undefined {
  assert(Number.isSafeInteger(raftIndex) && raftIndex >= 0, `raft index ${raftIndex} is not an index`);
  assert(Number.isSafeInteger(attempt) && attempt >= 0 && attempt < 1 << 11, `bad attempt ${attempt}`);
  // The index fits in 53 bits; the attempt goes in bits 53..63, so distinct (index, attempt) pairs never
  // collide before mixing, and the mix is a bijection, so they never collide after it either (only the
  // final mask to 63 bits can, which the caller's "not in use" loop absorbs).
  const seed = (BigInt(raftIndex) | (BigInt(attempt) << 53n)) & UINT64_MASK;
  const mixed = mix64(seed) & INT64_MAX;
  return mixed === NO_LEASE ? undefined : (mixed as LeaseId);
}

/**
 * mix64 is a bijective 64-bit finalizer (the xor-shift-multiply steps of SplitMix64, a public-domain
 * construction): every input bit affects every output bit.
 */
function mix64(input: bigint): bigint {
  let z = (input + 0x9e3779b97f4a7c15n) & UINT64_MASK;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & UINT64_MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & UINT64_MASK;
  return z ^ (z >> 31n);
}
