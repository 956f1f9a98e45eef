import { create, toBinary } from "@bufbuild/protobuf";
import { WatchResponseSchema } from "@etcd-ts/proto/etcdserverpb";
import { EventSchema, KeyValueSchema } from "@etcd-ts/proto/mvccpb";
import fc from "fast-check";
import { expect, test } from "vitest";
import { fragmentWatchResponse } from "./watch-fragment.js";

const responseArb = fc
  .array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.uint8Array({ maxLength: 200 })), {
    maxLength: 30,
  })
  .map((pairs) =>
    create(WatchResponseSchema, {
      header: { revision: 9n },
      watchId: 3n,
      events: pairs.map(([key, value]) =>
        create(EventSchema, { kv: create(KeyValueSchema, { key, value }) }),
      ),
    }),
  );

test("fragments keep every event in order, fit the limit, and only the last is not a fragment", () => {
  fc.assert(
    fc.property(responseArb, fc.integer({ min: 64, max: 2000 }), (response, maxBytes) => {
      const pieces = fragmentWatchResponse(response, maxBytes);
      expect(pieces.flatMap((p) => p.events)).toEqual(response.events);
      expect(pieces.at(-1)?.fragment).toBe(false);
      for (const piece of pieces.slice(0, -1)) expect(piece.fragment).toBe(true);
      for (const piece of pieces) {
        expect(piece.watchId).toBe(3n);
        expect(piece.header?.revision).toBe(9n);
        if (piece.events.length > 1)
          expect(toBinary(WatchResponseSchema, piece).length).toBeLessThanOrEqual(maxBytes);
      }
      if (toBinary(WatchResponseSchema, response).length <= maxBytes) expect(pieces).toEqual([response]);
    }),
  );
});
