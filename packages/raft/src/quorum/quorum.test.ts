import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JointConfig } from "./joint.js";
import { MAX_INDEX, MajorityConfig } from "./majority.js";
import { VoteResult } from "./vote-result.js";

/** Reference model: the largest index such that a majority acked at least it (brute force). */
function refCommitted(ids: bigint[], acked: Map<bigint, number>): number {
  if (ids.length === 0) return MAX_INDEX;
  const q = Math.floor(ids.length / 2) + 1;
  let best = 0;
  for (const cand of [0, ...ids.map((id) => acked.get(id) ?? 0)]) {
    const n = ids.filter((id) => (acked.get(id) ?? 0) >= cand).length;
    if (n >= q && cand > best) best = cand;
  }
  return best;
}

function refVote(ids: bigint[], votes: Map<bigint, boolean>): VoteResult {
  if (ids.length === 0) return VoteResult.Won;
  const q = Math.floor(ids.length / 2) + 1;
  const yes = ids.filter((id) => votes.get(id) === true).length;
  const no = ids.filter((id) => votes.get(id) === false).length;
  if (yes >= q) return VoteResult.Won;
  if (ids.length - no >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

const idsArb = fc.uniqueArray(fc.bigInt({ min: 1n, max: 9n }), { maxLength: 7 });
const ackArb = fc.array(fc.tuple(fc.bigInt({ min: 1n, max: 9n }), fc.nat(20)));
const voteArb = fc.array(fc.tuple(fc.bigInt({ min: 1n, max: 9n }), fc.boolean()));

describe("MajorityConfig", () => {
  it("committedIndex matches a brute-force reference", () => {
    fc.assert(
      fc.property(idsArb, ackArb, (ids, acks) => {
        const acked = new Map(acks);
        expect(new MajorityConfig(ids).committedIndex((id) => acked.get(id))).toBe(refCommitted(ids, acked));
      }),
    );
  });

  it("voteResult matches a brute-force reference", () => {
    fc.assert(
      fc.property(idsArb, voteArb, (ids, vs) => {
        const votes = new Map(vs);
        expect(new MajorityConfig(ids).voteResult((id) => votes.get(id))).toBe(refVote(ids, votes));
      }),
    );
  });

  it("examples", () => {
    const c = new MajorityConfig([1n, 2n, 3n]);
    expect(c.committedIndex((id) => ({ 1: 5, 2: 3, 3: 1 })[Number(id)])).toBe(3);
    expect(c.voteResult((id) => (id === 1n ? true : undefined))).toBe(VoteResult.Pending);
    expect(new MajorityConfig().committedIndex(() => 0)).toBe(MAX_INDEX);
  });
});

describe("JointConfig", () => {
  it("commits the minimum of both halves and needs both to win", () => {
    fc.assert(
      fc.property(idsArb, idsArb, ackArb, voteArb, (a, b, acks, vs) => {
        const acked = new Map(acks);
        const votes = new Map(vs);
        const j = new JointConfig(new MajorityConfig(a), new MajorityConfig(b));
        const ci = j.committedIndex((id) => acked.get(id));
        expect(ci).toBe(Math.min(refCommitted(a, acked), refCommitted(b, acked)));
        const r1 = refVote(a, votes);
        const r2 = refVote(b, votes);
        const want =
          r1 === r2
            ? r1
            : r1 === VoteResult.Lost || r2 === VoteResult.Lost
              ? VoteResult.Lost
              : VoteResult.Pending;
        expect(j.voteResult((id) => votes.get(id))).toBe(want);
      }),
    );
  });
});
