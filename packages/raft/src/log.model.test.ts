import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RaftLog } from "./log.js";
import { MemoryStorage } from "./storage.js";
import type { Entry } from "./types.js";
import { NO_LIMIT, newEntry } from "./types.js";

/**
 * Model-based test of RaftLog + MemoryStorage against a plain array: random appends (with conflicts),
 * persistence (stableTo + storage append), commits and compactions must keep `term`, `slice` and
 * `lastIndex` equal to the model's, whichever part (stable or unstable) holds an entry.
 */
type Op =
  | { kind: "append"; at: number; terms: number[] }
  | { kind: "persist" }
  | { kind: "commit"; to: number }
  | { kind: "compact"; to: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("append" as const),
    at: fc.nat(12),
    terms: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant("persist" as const) }),
  fc.record({ kind: fc.constant("commit" as const), to: fc.nat(12) }),
  fc.record({ kind: fc.constant("compact" as const), to: fc.nat(12) }),
);

describe("RaftLog (model-based)", () => {
  it("agrees with an array model under appends, persistence, commits and compaction", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const storage = new MemoryStorage();
        const log = new RaftLog(storage, NO_LIMIT);
        // model[i] = term of entry i+1
        const model: number[] = [];
        let firstIndex = 1;
        for (const op of ops) {
          if (op.kind === "append") {
            // Append after an existing index, never rewriting committed entries, terms non-decreasing.
            const after = Math.max(log.committed, Math.min(op.at, model.length));
            if (after < firstIndex - 1) continue;
            const base = after === 0 ? 0 : (model[after - 1] ?? 0);
            const terms = op.terms.map((t) => base + t);
            for (let i = 1; i < terms.length; i++) terms[i] = Math.max(terms[i]!, terms[i - 1]!);
            const ents: Entry[] = terms.map((t, i) => newEntry({ index: after + 1 + i, term: t }));
            log.append(ents);
            model.length = after;
            model.push(...terms);
          } else if (op.kind === "persist") {
            const ents = log.unstableEntries();
            if (ents.length === 0) continue;
            storage.append(ents);
            const last = ents[ents.length - 1]!;
            log.stableTo(last.index, last.term);
          } else if (op.kind === "commit") {
            const to = Math.min(op.to, model.length);
            if (to > log.committed) log.commitTo(to);
          } else {
            // Only persisted, committed entries can be compacted: persisted means in the log's stable part
            // (storage may still hold entries the unstable part has since replaced, until they are persisted).
            const firstUnstable = log.unstableEntries()[0]?.index;
            const stable = firstUnstable === undefined ? storage.lastIndex() : firstUnstable - 1;
            const to = Math.min(op.to, log.committed, stable);
            if (to < firstIndex) continue;
            storage.createSnapshot(to, undefined, new Uint8Array());
            storage.compact(to);
            firstIndex = to + 1;
          }
          expect(log.lastIndex()).toBe(model.length);
          expect(log.firstIndex()).toBe(firstIndex);
          for (let i = firstIndex; i <= model.length; i++) expect(log.term(i)).toBe(model[i - 1]);
          if (firstIndex <= model.length) {
            expect(log.slice(firstIndex, model.length + 1, NO_LIMIT).map((e) => e.term)).toEqual(
              model.slice(firstIndex - 1),
            );
          }
          expect(log.committed).toBeLessThanOrEqual(log.lastIndex());
        }
      }),
    );
  });
});
