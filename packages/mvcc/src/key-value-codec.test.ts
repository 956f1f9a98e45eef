import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KeyValueSchema } from "@etcd-ts/proto/mvccpb";
import fc from "fast-check";
import { expect, test } from "vitest";
import { decodeKeyValue, encodeKeyValue } from "./key-value-codec.js";

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
    }),
    { numRuns: 500 },
  );
});
