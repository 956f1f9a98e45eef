import { describe, expect, it } from "vitest";
import { CanceledError, DeadlineExceededError } from "../errors.js";
import { CallBudget } from "./call-budget.js";

describe("CallBudget", () => {
  it("sends the key-creating call unbounded, keeping only the endpoint pin", () => {
    const signal = new AbortController().signal;
    const budget = new CallBudget({ timeoutMs: 1_000, signal, endpoint: "127.0.0.1:1" });
    expect(budget.unbounded()).toEqual({ endpoint: "127.0.0.1:1" });
    expect(new CallBudget({ timeoutMs: 5 }).unbounded()).toEqual({});
  });

  it("hands later calls what is left of the deadline, and fails once it is spent", async () => {
    const budget = new CallBudget({ timeoutMs: 50 });
    const first = budget.remaining().timeoutMs ?? 0;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(50);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(() => budget.remaining()).toThrow(DeadlineExceededError);
    expect(new CallBudget({}).remaining()).toEqual({});
  });

  it("passes the signal on, and fails once it has fired", () => {
    const controller = new AbortController();
    const budget = new CallBudget({ signal: controller.signal });
    expect(budget.remaining().signal).toBe(controller.signal);
    controller.abort();
    expect(() => budget.remaining()).toThrow(CanceledError);
  });
});
