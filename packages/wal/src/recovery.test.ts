import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WalCorruptError, WalFormatError } from "./errors.js";
import { FRAME_HEADER_BYTES } from "./frame.js";
import { MemWalFs } from "./mem-fs.js";
import { scanSegment } from "./segment-scan.js";
import type { Entry, HardState } from "./types.js";
import { DEFAULT_MAX_RECORD_BYTES, Wal } from "./wal.js";

/**
 * Crash and corruption tests: what recovery makes of a log whose tail was torn at every byte, and of a
 * log with a bit flipped anywhere.
 */

const DIR = "/wal";
const META = { memberId: 1n, clusterId: 2n };

interface Save {
  hardState: HardState;
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
  return { entries, hardState: save.hardState };
}

/** statesOf returns the state after each prefix of `saves` (states[k] = after the first k). */
function statesOf(saves: Save[]): State[] {
  const states: State[] = [{ entries: [], hardState: { term: 0, vote: 0n, commit: 0 } }];
  for (const save of saves) states.push(apply(states.at(-1)!, save));
  return states;
}

/** makeSaves returns deterministic saves of 1-3 entries of varying sizes (so padding varies too). */
function makeSaves(count: number): Save[] {
  const saves: Save[] = [];
  let last = 0;
  for (let i = 0; i < count; i++) {
    const n = 1 + (i % 3);
    const entries: Entry[] = [];
    for (let k = 0; k < n; k++) {
      last++;
      entries.push({
        index: last,
        term: 1 + (i >> 2),
        type: 0,
        data: new TextEncoder().encode("x".repeat((i * 7 + k) % 23)),
      });
    }
    saves.push({ hardState: { term: 1 + (i >> 2), vote: 3n, commit: Math.max(0, last - 2) }, entries });
  }
  return saves;
}

async function writeLog(segmentBytes: number, saves: Save[]): Promise<{ fs: MemWalFs; lastSegment: string }> {
  const fs = new MemWalFs();
  const wal = await Wal.create(DIR, META, { fs, segmentBytes });
  for (const save of saves) await wal.save(save.hardState, save.entries);
  await wal.close();
  const names = (await fs.readdir(DIR)).filter((name) => name.endsWith(".wal"));
  return { fs, lastSegment: `${DIR}/${names.at(-1)}` };
}

async function recover(fs: MemWalFs, segmentBytes: number): Promise<State & { wal: Wal }> {
  const wal = await Wal.open(DIR, { index: 0, term: 0 }, { fs, segmentBytes });
  const { entries, hardState } = await wal.readAll();
  return { wal, entries, hardState };
}

type TailDamage = "truncate" | "zeros" | "garbage";

function damage(bytes: Uint8Array, cut: number, mode: TailDamage, dataEnd: number, seed: number): Uint8Array {
  if (mode === "truncate") return bytes.slice(0, cut);
  const out = bytes.slice();
  let x = seed | 1;
  for (let i = cut; i < out.length; i++) {
    if (mode === "zeros" || i >= dataEnd + 64) {
      out[i] = 0;
    } else {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
  }
  return out;
}

describe("recovery from a torn tail", () => {
  for (const segmentBytes of [16 * 1024, 1024]) {
    it(`keeps exactly the batches intact before the cut, at every byte of the tail (segments of ${segmentBytes} bytes)`, async () => {
      const saves = makeSaves(24);
      const states = statesOf(saves);
      const { fs, lastSegment } = await writeLog(segmentBytes, saves);
      const bytes = fs.readFile(lastSegment);
      const scan = scanSegment(lastSegment, bytes, true, DEFAULT_MAX_RECORD_BYTES);
      expect(scan.torn).toBeUndefined();
      expect(scan.corrupt).toBeUndefined();
      const batches = scan.batches;
      // batches[0] is the segment's first batch (create or cut); the rest are the last saves.
      const firstSave = saves.length - (batches.length - 1);
      const ends = batches.map((batch) => {
        const last = batch.frames.at(-1)!;
        return { frameEnd: last.end, recordEnd: last.offset + FRAME_HEADER_BYTES + last.record.length };
      });
      const from = batches[Math.max(1, batches.length - 4)]!.frames[0]!.offset;
      const to = ends.at(-1)!.frameEnd + 16;
      let checked = 0;
      for (const mode of ["truncate", "zeros", "garbage"] as const) {
        for (let cut = from; cut <= to; cut++) {
          const copy = fs.clone();
          copy.writeFile(lastSegment, damage(bytes, cut, mode, ends.at(-1)!.frameEnd, cut));
          let kept = firstSave;
          for (let j = 1; j < batches.length; j++) {
            const end = mode === "truncate" ? ends[j]!.frameEnd : ends[j]!.recordEnd;
            if (end <= cut) kept++;
          }
          const { wal, entries, hardState } = await recover(copy, segmentBytes);
          expect({ entries, hardState }, `${mode} at ${cut}`).toEqual(states[kept]);
          // The repaired log takes new writes after what it kept, and they survive a reopen.
          const next = (entries.at(-1)?.index ?? 0) + 1;
          const extra: Entry = { index: next, term: 9, type: 0, data: new Uint8Array([7]) };
          await wal.save({ term: 9, vote: 0n, commit: 0 }, [extra]);
          await wal.close();
          const again = await recover(copy, segmentBytes);
          expect(again.entries).toEqual([...states[kept]!.entries, extra]);
          await again.wal.close();
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(300);
    }, 60_000);
  }
});

describe("recovery from a bit flip", () => {
  it("reports WalCorruptError for a damaged synced record, cuts only the last batch, never returns wrong data", async () => {
    const segmentBytes = 16 * 1024;
    const saves = makeSaves(12);
    const states = statesOf(saves);
    const { fs, lastSegment } = await writeLog(segmentBytes, saves);
    const bytes = fs.readFile(lastSegment);
    const scan = scanSegment(lastSegment, bytes, true, DEFAULT_MAX_RECORD_BYTES);
    const frames = scan.batches.flatMap((batch, b) => batch.frames.map((frame) => ({ frame, b })));
    const lastBatch = scan.batches.length - 1;
    const dataEnd = frames.at(-1)!.frame.end;

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: dataEnd + 63 }),
        fc.integer({ min: 0, max: 7 }),
        async (offset, bit) => {
          const copy = fs.clone();
          copy.flipBit(lastSegment, offset, bit);
          const outcome = await recover(copy, segmentBytes).then(
            async (r) => {
              await r.wal.close();
              return { entries: r.entries, hardState: r.hardState };
            },
            (error: unknown) => error,
          );
          if (offset < 16) {
            expect(outcome).toBeInstanceOf(WalFormatError);
            return;
          }
          const hit = frames.find(({ frame }) => offset >= frame.offset && offset < frame.end);
          const inRecord = hit && offset < hit.frame.offset + FRAME_HEADER_BYTES + hit.frame.record.length;
          if (!hit || !inRecord) {
            // Padding or the zero-filled space after the log: no record changes.
            expect(outcome).toEqual(states[saves.length]);
          } else if (hit.b === lastBatch) {
            // The last batch could be a torn write: it is cut off, everything before it is kept.
            expect(outcome).toEqual(states[saves.length - 1]);
          } else {
            expect(outcome).toBeInstanceOf(WalCorruptError);
            const error = outcome as WalCorruptError;
            expect(error.file).toBe(lastSegment);
            expect(error.offset).toBe(hit.frame.offset);
            // Batch 0 is the log's first batch; batch b > 0 is save b - 1. The index names the last
            // entry read intact: the end of the batches before the damaged one.
            expect(error.index).toBe(states[Math.max(0, hit.b - 1)]!.entries.at(-1)?.index ?? 0);
          }
        },
      ),
      { numRuns: Number(process.env.WAL_FLIP_RUNS ?? 400), seed: Number(process.env.WAL_SEED ?? 42) },
    );
  }, 60_000);

  it("handles a bit flip anywhere in a log of several segments", async () => {
    const segmentBytes = 1024;
    const saves = makeSaves(30);
    const states = statesOf(saves);
    const { fs } = await writeLog(segmentBytes, saves);
    const names = (await fs.readdir(DIR)).filter((name) => name.endsWith(".wal"));
    expect(names.length).toBeGreaterThan(3);
    const segments = names.map((name, i) => {
      const path = `${DIR}/${name}`;
      const bytes = fs.readFile(path);
      const scan = scanSegment(path, bytes, i === names.length - 1, DEFAULT_MAX_RECORD_BYTES);
      const frames = scan.batches.flatMap((batch, b) => batch.frames.map((frame) => ({ frame, b })));
      return { path, length: bytes.length, frames, batches: scan.batches.length };
    });

    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: segments.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (which, at, bit) => {
          const segment = segments[which]!;
          const isLast = which === segments.length - 1;
          const offset = at % segment.length;
          const copy = fs.clone();
          copy.flipBit(segment.path, offset, bit);
          const outcome = await recover(copy, segmentBytes).then(
            async (r) => {
              await r.wal.close();
              return { entries: r.entries, hardState: r.hardState };
            },
            (error: unknown) => error,
          );
          if (offset < 16) {
            expect(outcome).toBeInstanceOf(WalFormatError);
            return;
          }
          const hit = segment.frames.find(({ frame }) => offset >= frame.offset && offset < frame.end);
          const inRecord = hit && offset < hit.frame.offset + FRAME_HEADER_BYTES + hit.frame.record.length;
          if (!hit || !inRecord) {
            expect(outcome).toEqual(states[saves.length]);
          } else if (isLast && hit.b > 0 && hit.b === segment.batches - 1) {
            expect(outcome).toEqual(states[saves.length - 1]);
          } else {
            expect(outcome).toBeInstanceOf(WalCorruptError);
            expect(outcome).toMatchObject({ file: segment.path, offset: hit.frame.offset });
          }
        },
      ),
      { numRuns: Number(process.env.WAL_FLIP_RUNS ?? 400), seed: Number(process.env.WAL_SEED ?? 7) },
    );
  }, 60_000);

  it("reports WalCorruptError when a synced record in an older segment is damaged", async () => {
    const segmentBytes = 1024;
    const { fs } = await writeLog(segmentBytes, makeSaves(30));
    const names = (await fs.readdir(DIR)).filter((name) => name.endsWith(".wal"));
    expect(names.length).toBeGreaterThan(2);
    const path = `${DIR}/${names[1]}`;
    const bytes = fs.readFile(path);
    // Damage the very last frame of a finished segment: it is not a tail, a later segment exists.
    fs.flipBit(path, bytes.length - 20, 3);
    const error = await recover(fs, segmentBytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalCorruptError);
    expect((error as WalCorruptError).file).toBe(path);
  });

  it("reports WalCorruptError when a zeroed sector hides synced records", async () => {
    const segmentBytes = 16 * 1024;
    const saves = makeSaves(12);
    const { fs, lastSegment } = await writeLog(segmentBytes, saves);
    const bytes = fs.readFile(lastSegment);
    const scan = scanSegment(lastSegment, bytes, true, DEFAULT_MAX_RECORD_BYTES);
    const victim = scan.batches[5]!.frames[0]!;
    bytes.fill(0, victim.offset, victim.offset + FRAME_HEADER_BYTES);
    fs.writeFile(lastSegment, bytes);
    const error = await recover(fs, segmentBytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalCorruptError);
    expect((error as WalCorruptError).offset).toBe(victim.offset);
  });

  it("finds synced records behind a long zeroed run (more than a zero block), and none behind zeros alone", async () => {
    const segmentBytes = 16 * 1024;
    const { fs, lastSegment } = await writeLog(segmentBytes, makeSaves(12));
    const bytes = fs.readFile(lastSegment);
    const scan = scanSegment(lastSegment, bytes, true, DEFAULT_MAX_RECORD_BYTES);
    const victim = scan.batches[5]!.frames[0]!;
    const end = scan.batches.at(-1)!.frames.at(-1)!.end;
    // 160 KiB of zeros (8-byte aligned, more than two zero blocks) pushed in front of the victim batch and
    // every later one.
    const gap = 160 * 1024;
    const hidden = new Uint8Array(bytes.length + gap + 64 * 1024);
    hidden.set(bytes.subarray(0, victim.offset), 0);
    hidden.set(bytes.subarray(victim.offset, end), victim.offset + gap);
    const found = scanSegment(lastSegment, hidden, true, DEFAULT_MAX_RECORD_BYTES);
    expect(found.corrupt?.reason).toMatch(/followed by valid records/);
    expect(found.corrupt?.offset).toBe(victim.offset);
    // Told where the zeros begin (as NodeWalFs tells), the scan still finds them.
    const dataEnd = end + gap;
    const hinted = scanSegment(lastSegment, hidden, true, DEFAULT_MAX_RECORD_BYTES, dataEnd);
    expect(hinted.corrupt?.offset).toBe(victim.offset);
    // The same log cut at the victim, followed by zeros only: a clean end, nothing lost.
    const clean = new Uint8Array(victim.offset + gap + 64 * 1024);
    clean.set(bytes.subarray(0, victim.offset), 0);
    const ended = scanSegment(lastSegment, clean, true, DEFAULT_MAX_RECORD_BYTES);
    expect(ended.corrupt).toBeUndefined();
    expect(ended.batches).toHaveLength(5);
  });

  it("rejects absurd length fields without allocating for them", async () => {
    const segmentBytes = 16 * 1024;
    const { fs, lastSegment } = await writeLog(segmentBytes, makeSaves(6));
    const bytes = fs.readFile(lastSegment);
    const scan = scanSegment(lastSegment, bytes, true, DEFAULT_MAX_RECORD_BYTES);
    const victim = scan.batches[2]!.frames[0]!;
    new DataView(bytes.buffer).setUint32(victim.offset, 0xfffffff0, true);
    fs.writeFile(lastSegment, bytes);
    const error = await recover(fs, segmentBytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalCorruptError);
    expect((error as WalCorruptError).reason).toMatch(/too-large/);
  });
});

describe("recovery is not fooled by frame images inside entries", () => {
  it("treats a torn last batch as torn even when its entry carries valid frames of older batches", async () => {
    const segmentBytes = 16 * 1024;
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, META, { fs, segmentBytes });
    await wal.save({ term: 1, vote: 0n, commit: 0 }, [
      { index: 1, term: 1, type: 0, data: new Uint8Array([1]) },
    ]);
    await wal.close();
    const path = `${DIR}/0000000000000000-0000000000000000.wal`;
    const scan = scanSegment(path, fs.readFile(path), true, DEFAULT_MAX_RECORD_BYTES);
    const frame = scan.batches[1]!.frames[0]!;
    const image = fs.readFile(path).slice(frame.offset, frame.end);
    // Eight copies at every alignment, so one lands on an 8-byte boundary in the file.
    const data = new Uint8Array(8 * (image.length + 8));
    for (let shift = 0; shift < 8; shift++) data.set(image, shift * (image.length + 8) + shift);

    const again = await Wal.open(DIR, { index: 0, term: 0 }, { fs, segmentBytes });
    await again.readAll();
    await again.save({ term: 1, vote: 0n, commit: 1 }, [{ index: 2, term: 1, type: 0, data }]);
    await again.close();
    const last = scanSegment(path, fs.readFile(path), true, DEFAULT_MAX_RECORD_BYTES).batches.at(-1)!;
    // Tear the last batch: damage its first frame's header.
    fs.flipBit(path, last.frames[0]!.offset + 4, 1);
    const { entries, wal: recovered } = await recover(fs, segmentBytes);
    expect(entries.map((e) => e.index)).toEqual([1]);
    await recovered.close();
  });
});
