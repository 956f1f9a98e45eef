import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AsyncQueue } from "./async-queue.js";

describe("AsyncQueue", () => {
  it("delivers pushed values in order, then ends (reference: an array)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 50 }), async (values) => {
        const queue = new AsyncQueue<number>();
        const half = Math.floor(values.length / 2);
        for (const v of values.slice(0, half)) queue.push(v);
        const consumed = (async () => {
          const out: number[] = [];
          for await (const v of queue) out.push(v);
          return out;
        })();
        for (const v of values.slice(half)) queue.push(v);
        queue.close();
        expect(await consumed).toEqual(values);
      }),
    );
  });

  it("fails after draining, and fails when the buffer bound is exceeded", async () => {
    const queue = new AsyncQueue<number>(2);
    queue.push(1);
    queue.push(2);
    expect(queue.push(3)).toBe(false);
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const v of queue) out.push(v);
      })(),
    ).rejects.toThrow(/too slow/);
    expect(out).toEqual([1, 2]);
  });
});
