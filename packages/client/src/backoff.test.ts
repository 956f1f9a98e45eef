import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffMs } from "./backoff.js";

describe("backoffMs", () => {
  it("stays within [cap/2, cap] where the cap doubles up to maxMs", () => {
    fc.assert(
      fc.property(fc.nat(60), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const cap = Math.min(1000, 10 * 2 ** attempt);
        const wait = backoffMs(attempt, { initialMs: 10, maxMs: 1000 }, () => r);
        expect(wait).toBeGreaterThanOrEqual(Math.floor(cap / 2));
        expect(wait).toBeLessThanOrEqual(cap);
      }),
    );
  });
});
