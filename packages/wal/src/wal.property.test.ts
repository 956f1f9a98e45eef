import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemWalFs } from "./mem-fs.js";
import type { Entry, HardState } from "./types.js";
import { Wal } from "./wal.js";

/**
 * Property: random saves (awaited one by one or issued concurrently) and crashes at random points (the
 * disk loses power after a random number of operations; unsynced writes survive in part, torn at a random
 * byte) against a reference model. After every recovery the log must equal the model after some prefix
 * of the issued saves that includes every acknowledged save: nothing acknowledged is lost, nothing
 * half-written or invented appears.
 *
 * Bigger runs: WAL_PROP_RUNS=2000 WAL_PROP_SEED=<n> pnpm --filter @etcd-ts/wal test
 */

const DIR = "/wal";
const META = { memberId: 7n, clusterId: 9n };
const SEGMENT_BYTES = 700;

interface Save {
  hardState: HardState | undefined;
  entries: Entry[];
}

interface State {
  entries: Entry[];
  hardState: HardState;
}

function apply(state: State, save: Save): State {
  const entries = [...state.entries];
  const first = save.entries[0];
  if (first) entries.length = first.index - 1;
  entries.push(...save.entries);
  return { entries, hardState: save.hardState ?? state.hardState };
}

const saveSpec = fc.record({
  back: fc.integer({ min: 0, max: 3 }),
  count: fc.integer({ min: 0, max: 4 }),
  size: fc.integer({ min: 0, max: 90 }),
  withHardState: fc.boolean(),
});

const round = fc.record({
  saves: fc.array(saveSpec, { minLength: 1, maxLength: 8 }),
  concurrent: fc.boolean(),
  crashAfterOps: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  crashAtEnd: fc.boolean(),
});

describe("Wal against a reference model, with crashes", () => {
  it("recovers a prefix of the issued saves that contains every acknowledged save", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(round, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        async (rounds, seed) => {
          let x = seed;
          const random = (): number => {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            return (x >>> 0) / 2 ** 32;
          };
          const fs = new MemWalFs();
          let wal = await Wal.create(DIR, META, { fs, segmentBytes: SEGMENT_BYTES });
          let state: State = { entries: [], hardState: { term: 0, vote: 0n, commit: 0 } };
          let term = 1;

          for (const r of rounds) {
            if (r.crashAfterOps !== undefined) fs.crashAfter(r.crashAfterOps);
            const issued: Save[] = [];
            const acked: boolean[] = [];
            const pending: Promise<void>[] = [];
            let queued = state;
            for (const spec of r.saves) {
              const last = queued.entries.at(-1)?.index ?? 0;
              const start = Math.max(1, last + 1 - spec.back);
              const entries: Entry[] = [];
              for (let i = 0; i < spec.count; i++) {
                entries.push({
                  index: start + i,
                  term,
                  type: 0,
                  data: new Uint8Array(spec.size).fill(start + i),
                });
              }
              const hardState =
                spec.withHardState || entries.length === 0
                  ? { term, vote: 1n, commit: Math.min(last, term * 3) }
                  : undefined;
              const save: Save = { hardState, entries };
              const n = issued.length;
              issued.push(save);
              acked.push(false);
              queued = apply(queued, save);
              const p = wal.save(hardState, entries).then(
                () => {
                  acked[n] = true;
                },
                () => undefined,
              );
              if (r.concurrent) pending.push(p);
              else await p;
            }
            await Promise.all(pending);
            term++;
            // Group commit acknowledges in order: the acknowledged saves are a prefix.
            const ackedCount = acked.indexOf(false) === -1 ? acked.length : acked.indexOf(false);
            expect(acked.slice(ackedCount).every((a) => !a)).toBe(true);

            // A round with a power cut pending always ends in a crash and recovery (the cut may come
            // later, e.g. while a segment is being cut after the last save).
            if (r.crashAfterOps === undefined && !r.crashAtEnd) {
              state = queued;
              continue;
            }
            await wal.close();
            fs.crash({ random });
            wal = await Wal.open(DIR, { index: 0, term: 0 }, { fs, segmentBytes: SEGMENT_BYTES });
            const read = await wal.readAll();
            const recovered = { entries: read.entries, hardState: read.hardState };
            // Find the prefix of the issued saves the log equals.
            let candidate = state;
            for (let k = 0; k < ackedCount; k++) candidate = apply(candidate, issued[k]!);
            let match: State | undefined;
            for (let k = ackedCount; k <= issued.length; k++) {
              if (equalStates(candidate, recovered)) {
                match = candidate;
                break;
              }
              if (k < issued.length) candidate = apply(candidate, issued[k]!);
            }
            expect(
              match,
              `recovered ${show(recovered)} after acking ${ackedCount}/${issued.length}`,
            ).toBeDefined();
            state = match!;
          }
          await wal.close();
          const final = await Wal.open(DIR, { index: 0, term: 0 }, { fs, segmentBytes: SEGMENT_BYTES });
          const read = await final.readAll();
          expect(equalStates({ entries: read.entries, hardState: read.hardState }, state)).toBe(true);
          await final.close();
        },
      ),
      {
        numRuns: Number(process.env.WAL_PROP_RUNS ?? 150),
        ...(process.env.WAL_PROP_SEED ? { seed: Number(process.env.WAL_PROP_SEED) } : {}),
      },
    );
  }, 60_000);
});

function equalStates(a: State, b: State): boolean {
  if (a.hardState.term !== b.hardState.term) return false;
  if (a.hardState.vote !== b.hardState.vote || a.hardState.commit !== b.hardState.commit) return false;
  if (a.entries.length !== b.entries.length) return false;
  return a.entries.every((e, i) => {
    const f = b.entries[i]!;
    return (
      e.index === f.index && e.term === f.term && e.type === f.type && Buffer.from(e.data).equals(f.data)
    );
  });
}

function show(state: State): string {
  return `${state.entries.map((e) => `${e.index}@${e.term}`).join(",")} hs=${state.hardState.term}/${state.hardState.commit}`;
}
