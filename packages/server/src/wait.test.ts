import { describe, expect, it } from "vitest";
import { AppliedIndex } from "./applied-index.js";
import { Wait } from "./wait.js";

describe("Wait", () => {
  it("resolves the registered waiter with the applied result and ignores other ids", async () => {
    const wait = new Wait<string>(10);
    const pending = wait.register(1n);
    wait.trigger(2n, "not ours");
    wait.trigger(1n, "ours");
    await expect(pending).resolves.toBe("ours");
    expect(wait.size).toBe(0);
  });

  it("refuses to grow past its bound", () => {
    const wait = new Wait<string>(2);
    void wait.register(1n)?.catch(() => {});
    void wait.register(2n)?.catch(() => {});
    expect(wait.register(3n)).toBeUndefined();
    wait.failAll(new Error("stopped"));
    expect(wait.size).toBe(0);
  });

  it("rejects with the given error", async () => {
    const wait = new Wait<string>(1);
    const pending = wait.register(7n);
    wait.fail(7n, new Error("etcdserver: request timed out"));
    await expect(pending).rejects.toThrow("request timed out");
  });
});

describe("AppliedIndex", () => {
  it("releases waiters once the index is reached, and never goes back", async () => {
    const applied = new AppliedIndex(3);
    let released = false;
    const waiting = applied.wait(5).then(() => {
      released = true;
    });
    applied.advance(4);
    await Promise.resolve();
    expect(released).toBe(false);
    applied.advance(5);
    await waiting;
    expect(released).toBe(true);
    expect(() => applied.advance(4)).toThrow(/went back/);
  });
});
