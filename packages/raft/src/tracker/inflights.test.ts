import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Inflights } from "./inflights.js";

describe("Inflights", () => {
  it("behaves like a bounded FIFO of (index, bytes) (model-based)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.nat(50),
        fc.array(
          fc.oneof(
            fc.tuple(fc.constant("add"), fc.nat(10)),
            fc.tuple(fc.constant("free"), fc.nat(60)),
            fc.constant(["first", 0] as const),
          ),
        ),
        (size, maxBytes, ops) => {
          const inf = new Inflights(size, maxBytes);
          const model: [number, number][] = [];
          let next = 1;
          for (const [op, arg] of ops) {
            const full =
              model.length === size || (maxBytes !== 0 && model.reduce((s, [, b]) => s + b, 0) >= maxBytes);
            expect(inf.full()).toBe(full);
            if (op === "add") {
              if (full) continue;
              inf.add(next, arg);
              model.push([next, arg]);
              next++;
            } else if (op === "free") {
              inf.freeLE(arg);
              while (model.length > 0 && model[0]![0] <= arg) model.shift();
            } else {
              inf.freeFirstOne();
              model.shift();
            }
            expect(inf.count()).toBe(model.length);
            expect(inf.sizeBytes()).toBe(model.reduce((s, [, b]) => s + b, 0));
          }
        },
      ),
    );
  });

  it("refuses to add to a full window", () => {
    const inf = new Inflights(2);
    inf.add(1, 0);
    inf.add(2, 0);
    expect(() => inf.add(3, 0)).toThrow("cannot add into a full inflights");
  });
});
