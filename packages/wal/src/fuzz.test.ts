import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WalError } from "./errors.js";
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES } from "./frame.js";
import { MemWalFs } from "./mem-fs.js";
import { Snapshotter } from "./snapshotter.js";
import { Wal } from "./wal.js";

/**
 * Fuzz: arbitrary bytes where a segment or a snapshot file should be. Opening must either succeed or fail
 * with one of the package's typed errors: never a TypeError, RangeError, assertion or hang, and never a
 * large allocation driven by a length field.
 */

const DIR = "/wal";
const SEGMENT = `${DIR}/0000000000000000-0000000000000000.wal`;

async function openFuzzed(bytes: Uint8Array): Promise<unknown> {
  const fs = new MemWalFs();
  fs.writeFile(SEGMENT, bytes);
  try {
    const wal = await Wal.open(
      DIR,
      { index: 0, term: 0 },
      { fs, segmentBytes: 4096, maxRecordBytes: 1 << 20 },
    );
    const result = await wal.readAll();
    await wal.close();
    return result;
  } catch (error) {
    return error;
  }
}

describe("fuzzed files", () => {
  it("a segment of random bytes after a valid header gives a result or a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (body) => {
        const bytes = new Uint8Array(SEGMENT_HEADER_BYTES + body.length);
        bytes.set(encodeSegmentHeader());
        bytes.set(body, SEGMENT_HEADER_BYTES);
        const outcome = await openFuzzed(bytes);
        if (outcome instanceof Error) expect(outcome).toBeInstanceOf(WalError);
      }),
      { numRuns: Number(process.env.WAL_FUZZ_RUNS ?? 300) },
    );
  });

  it("a real log with random bytes spliced in gives a result or a typed error", async () => {
    const fs = new MemWalFs();
    const wal = await Wal.create(DIR, { memberId: 1n, clusterId: 2n }, { fs, segmentBytes: 4096 });
    for (let i = 1; i <= 8; i++) {
      await wal.save({ term: 1, vote: 1n, commit: i }, [
        { index: i, term: 1, type: 0, data: new Uint8Array(i * 5) },
      ]);
    }
    await wal.close();
    const original = fs.readFile(SEGMENT);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 700 }),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        async (at, junk) => {
          const bytes = original.slice();
          bytes.set(junk.subarray(0, Math.max(0, bytes.length - at)), at);
          const outcome = await openFuzzed(bytes);
          if (outcome instanceof Error) expect(outcome).toBeInstanceOf(WalError);
        },
      ),
      { numRuns: Number(process.env.WAL_FUZZ_RUNS ?? 300) },
    );
  });

  it("a snapshot file of random bytes is rejected with a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const fs = new MemWalFs();
        fs.writeFile("/snap/0000000000000001-0000000000000001.snap", bytes);
        const outcome = await new Snapshotter("/snap", { fs })
          .read("0000000000000001-0000000000000001.snap")
          .catch((e: unknown) => e);
        expect(outcome).toBeInstanceOf(WalError);
      }),
      { numRuns: Number(process.env.WAL_FUZZ_RUNS ?? 300) },
    );
  });
});
