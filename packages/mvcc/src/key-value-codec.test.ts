import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KeyValueSchema } from "@etcd-ts/proto/mvccpb";
import fc from "fast-check";
import { expect, test } from "vitest";
import { keyToString } from "./key-range.js";
import { decodeKeyValue, decodeKeyValueMeta, encodeKeyValue } from "./key-value-codec.js";

const int64 = fc.oneof(
  fc.constantFrom(0n, 1n, 127n, 128n, 2n ** 53n, 2n ** 63n - 1n, -1n, -(2n ** 63n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 40n }),
);
const kvArb = fc.record({
  key: fc.uint8Array({ maxLength: 40 }),
  createRevision: int64,
  modRevision: int64,
  version: int64,
  value: fc.uint8Array({ maxLength: 300 }),
  lease: int64,
});

test("the KeyValue codec is byte-identical to protobuf-es and round-trips", () => {
  fc.assert(
    fc.property(kvArb, (init) => {
      const kv = create(KeyValueSchema, init);
      const ours = encodeKeyValue(kv);
      expect(ours).toEqual(toBinary(KeyValueSchema, kv));
      const back = decodeKeyValue(ours);
      expect(back).toEqual(fromBinary(KeyValueSchema, ours));
      expect(decodeKeyValue(ours, false).value).toEqual(new Uint8Array(0));
      if (
        kv.createRevision >= 0n &&
        kv.createRevision < 2n ** 49n &&
        kv.version >= 0n &&
        kv.version < 2n ** 49n
      ) {
        for (const bytes of [ours, Buffer.from(ours)]) {
          expect(decodeKeyValueMeta(bytes)).toEqual({
            key: keyToString(kv.key),
            createRevision: Number(kv.createRevision),
            version: Number(kv.version),
            lease: kv.lease,
          });
        }
      }
    }),
    { numRuns: 500 },
  );
});

test("unknown fields are skipped", () => {
  const kv = create(KeyValueSchema, { key: new Uint8Array([1]), version: 3n, value: new Uint8Array([9]) });
  const known = encodeKeyValue(kv);
  // field 7 (bytes), field 8 (varint), field 9 (fixed64), field 10 (fixed32)
  const unknown = [0x3a, 0x02, 0x05, 0x06, 0x40, 0x96, 0x01, 0x49, 1, 2, 3, 4, 5, 6, 7, 8, 0x55, 1, 2, 3, 4];
  const bytes = new Uint8Array([...unknown, ...known]);
  expect(decodeKeyValue(bytes)).toEqual(decodeKeyValue(known));
  expect(decodeKeyValueMeta(bytes)).toEqual(decodeKeyValueMeta(known));
});
