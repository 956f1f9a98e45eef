import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import fc from "fast-check";

const keyLike = fc.constantFrom("key/0", "key/1", "key/", "key0", "\0", "", "a", "zzzz", "fuzz/x");
const encoder = new TextEncoder();

const int64Arb = fc.oneof(
  fc.bigInt({ min: -5n, max: 200n }),
  fc.constantFrom(0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const uint64Arb = fc.oneof(
  fc.bigInt({ min: 0n, max: 200n }),
  fc.constantFrom(0n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);

function scalarArb(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64Arb;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return uint64Arb;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(fc.integer({ min: -5, max: 200 }), fc.integer());
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.integer({ min: 0, max: 200 }), fc.nat());
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return fc.oneof(
        keyLike,
        fc.string({ maxLength: 24 }),
        fc.constantFrom("root", "http://127.0.0.1:1", "NOSPACE"),
      );
    case ScalarType.BYTES:
      return fc.oneof(
        keyLike.map((k) => encoder.encode(k)),
        fc.uint8Array({ maxLength: 40 }),
      );
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.double();
  }
}

function fieldArb(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarArb(field.scalar);
    case "enum":
      return fc.oneof(
        fc.constantFrom(...field.enum.values.map((v) => v.number)),
        fc.integer({ min: -3, max: 40 }),
      );
    case "message":
      return depth <= 0 ? fc.constant(undefined) : messageInitArb(field.message, depth - 1);
    case "list": {
      const element =
        field.listKind === "scalar"
          ? scalarArb(field.scalar)
          : field.listKind === "enum"
            ? fc.oneof(
                fc.constantFrom(...field.enum.values.map((v) => v.number)),
                fc.integer({ min: -3, max: 40 }),
              )
            : depth <= 0
              ? fc.constant(undefined)
              : messageInitArb(field.message, depth - 1);
      return depth <= 0
        ? fc.constant([])
        : fc.array(element, { maxLength: 3 }).map((xs) => xs.filter((x) => x !== undefined));
    }
    case "map":
      return fc.constant({});
  }
}

/**
 * messageInitArb generates init objects for any protobuf message from its descriptor (every field
 * optional, oneofs as one case, int64 edge values, keys near the traffic's), nested up to `depth`.
 */
export function messageInitArb(desc: DescMessage, depth = 3): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      record[member.localName] = fc.oneof(
        fc.constant(undefined),
        ...member.fields.map((f) => fieldArb(f, depth).map((value) => ({ case: f.localName, value }))),
      );
    } else {
      record[member.localName] = fc.option(fieldArb(member, depth), { nil: undefined, freq: 2 });
    }
  }
  return fc
    .record(record)
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
}
