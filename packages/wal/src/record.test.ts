import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WalRecordSchema } from "@etcd-ts/proto/internal/wal";
import { EntrySchema, HardStateSchema } from "@etcd-ts/proto/raft";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeEntry,
  decodeHardState,
  decodeRecord,
  decodeSnapshotMarker,
  encodeEntry,
  encodeHardState,
  encodeRecord,
  encodeSnapshotMarker,
  RecordDecodeError,
  WalRecordType,
} from "./record.js";
import type { EntryType } from "./types.js";

const safe = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(0, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35, Number.MAX_SAFE_INTEGER),
);

describe("record encoding", () => {
  it("encodes Entry byte-for-byte like protobuf-es, and decodes it back", () => {
    fc.assert(
      fc.property(
        safe,
        safe,
        fc.constantFrom(0, 1, 2),
        fc.uint8Array({ maxLength: 300 }),
        (term, index, type, data) => {
          const entry = { term, index, type: type as EntryType, data };
          const bytes = encodeEntry(entry);
          const reference = toBinary(
            EntrySchema,
            create(EntrySchema, { term: BigInt(term), index: BigInt(index), type, data }),
          );
          expect(bytes).toEqual(reference);
          expect(decodeEntry(bytes)).toEqual(entry);
        },
      ),
    );
  });

  it("encodes WalRecord byte-for-byte like protobuf-es, and decodes it back", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, 4, 5),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.uint8Array({ maxLength: 300 }),
        (type, crc, data) => {
          const bytes = encodeRecord(type, data, crc);
          expect(bytes).toEqual(toBinary(WalRecordSchema, create(WalRecordSchema, { type, crc, data })));
          expect(decodeRecord(bytes)).toEqual({ type, crc, data });
        },
      ),
    );
  });

  it("encodes HardState byte-for-byte like protobuf-es", () => {
    fc.assert(
      fc.property(safe, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), safe, (term, vote, commit) => {
        const bytes = encodeHardState({ term, vote, commit });
        const reference = toBinary(
          HardStateSchema,
          create(HardStateSchema, { term: BigInt(term), vote, commit: BigInt(commit) }),
        );
        expect(bytes).toEqual(reference);
        expect(decodeHardState(bytes)).toEqual({ term, vote, commit });
      }),
    );
  });

  it("round-trips hard states and snapshot markers", () => {
    const state = { term: 5, vote: 0xffffffffffffffffn, commit: 2 ** 40 };
    expect(decodeHardState(encodeHardState(state))).toEqual(state);
    const marker = {
      index: 9,
      term: 2,
      confState: {
        voters: [1n, 2n],
        learners: [3n],
        votersOutgoing: [1n],
        learnersNext: [],
        autoLeave: true,
      },
    };
    expect(decodeSnapshotMarker(encodeSnapshotMarker(marker))).toEqual(marker);
    expect(decodeSnapshotMarker(encodeSnapshotMarker({ index: 1, term: 1 }))).toEqual({ index: 1, term: 1 });
  });

  it("reports an index beyond the safe integers as undecodable, not as a wrong number", () => {
    const bytes = toBinary(EntrySchema, create(EntrySchema, { term: 1n, index: 2n ** 60n }));
    expect(() => decodeEntry(bytes)).toThrow(RecordDecodeError);
    expect(() => decodeRecord(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(RecordDecodeError);
    expect(WalRecordType.ENTRY).toBe(2);
  });
});

describe("hand-written decoders against protobuf-es", () => {
  const reference = (bytes: Uint8Array) => {
    try {
      const entry = fromBinary(EntrySchema, bytes);
      return entry;
    } catch {
      return undefined;
    }
  };

  it("decode valid and mutated Entry bytes like protobuf-es, or reject them", () => {
    fc.assert(
      fc.property(
        safe,
        safe,
        fc.constantFrom(0, 1, 2),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.uint8Array({ maxLength: 6 }),
        (term, index, type, data, edits, suffix) => {
          const valid = toBinary(
            EntrySchema,
            create(EntrySchema, { term: BigInt(term), index: BigInt(index), type, data }),
          );
          const bytes = new Uint8Array([...valid, ...suffix]);
          for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
          const expected = reference(bytes);
          let actual: ReturnType<typeof decodeEntry> | undefined;
          try {
            actual = decodeEntry(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(RecordDecodeError);
          }
          if (actual) {
            // Whatever we accept, protobuf-es reads the same way.
            expect(expected).toBeDefined();
            expect(BigInt(actual.term)).toBe(expected!.term);
            expect(BigInt(actual.index)).toBe(expected!.index);
            expect(actual.type).toBe(expected!.type);
            expect(actual.data).toEqual(expected!.data);
          } else if (expected) {
            // We only reject what protobuf-es reads as out of our range.
            const max = BigInt(Number.MAX_SAFE_INTEGER);
            const outOfRange =
              expected.term > max || expected.index > max || ![0, 1, 2].includes(expected.type);
            // protobuf-es also accepts a few encodings we refuse (groups, wire-type mismatches it
            // tolerates); those never come from our writer, only from damaged bytes.
            expect(outOfRange || edits.length > 0 || suffix.length > 0).toBe(true);
          }
        },
      ),
      { numRuns: Number(process.env.WAL_DECODE_RUNS ?? 500) },
    );
  });
});
