import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LeaseId } from "./lease-id.js";
import type { QueueItem } from "./lease-queue.js";
import { LeaseQueue } from "./lease-queue.js";

function compare(a: QueueItem, b: QueueItem): number {
  return a.atMs - b.atMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || a.token - b.token;
}

const item = fc.record({
  atMs: fc.integer({ min: 0, max: 50 }),
  id: fc.bigInt({ min: -5n, max: 5n }).map((id) => id as LeaseId),
  token: fc.integer({ min: 0, max: 1000 }),
});

describe("LeaseQueue", () => {
  it("pops in (time, id, token) order like a sorted array, across interleaved pushes, pops and retains", () => {
    const op = fc.oneof(
      item.map((it) => ({ kind: "push" as const, it })),
      fc.constant({ kind: "pop" as const }),
      fc.integer({ min: 0, max: 1000 }).map((t) => ({ kind: "retain" as const, t })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const queue = new LeaseQueue();
        let model: QueueItem[] = [];
        for (const o of ops) {
          if (o.kind === "push") {
            queue.push(o.it);
            model.push(o.it);
            model.sort(compare);
          } else if (o.kind === "pop") {
            expect(queue.peek()).toEqual(model[0]);
            expect(queue.pop()).toEqual(model.shift());
          } else {
            const keep = (x: QueueItem) => x.token % 7 !== o.t % 7;
            queue.retain(keep);
            model = model.filter(keep);
          }
          expect(queue.size).toBe(model.length);
        }
        const drained: QueueItem[] = [];
        for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
          drained.push(next);
        }
        expect(drained).toEqual(model);
      }),
    );
  });

  it("is empty after clear", () => {
    const queue = new LeaseQueue();
    queue.push({ atMs: 1, id: 1n as LeaseId, token: 1 });
    queue.clear();
    expect(queue.size).toBe(0);
    expect(queue.pop()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
  });
});
