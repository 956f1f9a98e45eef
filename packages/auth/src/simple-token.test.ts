import { describe, expect, it } from "vitest";
import { defaultSimpleTokenTtlMs, SimpleTokenProvider } from "./simple-token.js";

function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function counterRandom() {
  let i = 0;
  return () => ((i++ % 52) + 0.5) / 52;
}

describe("SimpleTokenProvider", () => {
  it("issues <16 random letters>.<index> from the injected random source", async () => {
    const clock = fakeClock();
    const tokens = new SimpleTokenProvider({ now: clock.now, random: counterRandom() });
    tokens.enable();
    expect(await tokens.assign("bob", 3, { index: 42 })).toBe("abcdefghijklmnop.42");
    expect(await tokens.assign("bob", 3, { index: 43, simpleTokenPrefix: "XyZ" })).toBe("XyZ.43");
    expect(tokens.genTokenPrefix()).toBe("qrstuvwxyzABCDEF");
  });

  it("lives 300 s after its last use, and each use extends it", async () => {
    const clock = fakeClock();
    const tokens = new SimpleTokenProvider({ now: clock.now, random: counterRandom() });
    tokens.enable();
    const token = await tokens.assign("bob", 3, { index: 1 });
    expect(defaultSimpleTokenTtlMs).toBe(300_000);
    clock.advance(299_999);
    expect(await tokens.info(token, 9)).toEqual({ username: "bob", revision: 9 });
    clock.advance(299_999);
    expect(await tokens.info(token, 9)).toEqual({ username: "bob", revision: 9 });
    clock.advance(300_000);
    expect(await tokens.info(token, 9)).toBeUndefined();
    expect(tokens.size).toBe(0);
    clock.advance(-1_000_000);
    expect(await tokens.info(token, 9)).toBeUndefined(); // gone for good, not resurrected
  });

  it("honours a configured TTL", async () => {
    const clock = fakeClock();
    const tokens = new SimpleTokenProvider({ now: clock.now, random: counterRandom(), ttlMs: 1000 });
    tokens.enable();
    const token = await tokens.assign("bob", 1, { index: 1 });
    clock.advance(1000);
    expect(tokens.infoSync(token, 1)).toBeUndefined();
  });

  it("invalidates one user's tokens, and every token on disable", async () => {
    const clock = fakeClock();
    const tokens = new SimpleTokenProvider({ now: clock.now, random: counterRandom() });
    tokens.enable();
    const bob1 = await tokens.assign("bob", 1, { index: 1 });
    const bob2 = await tokens.assign("bob", 1, { index: 2 });
    const amy = await tokens.assign("amy", 1, { index: 3 });
    tokens.invalidateUser("bob");
    expect(tokens.infoSync(bob1, 1)).toBeUndefined();
    expect(tokens.infoSync(bob2, 1)).toBeUndefined();
    expect(tokens.infoSync(amy, 1)?.username).toBe("amy");
    tokens.disable();
    expect(tokens.infoSync(amy, 1)).toBeUndefined();
    tokens.enable();
    expect(tokens.infoSync(amy, 1)).toBeUndefined();
  });

  it("knows no token while disabled", async () => {
    const clock = fakeClock();
    const tokens = new SimpleTokenProvider({ now: clock.now, random: counterRandom() });
    const token = await tokens.assign("bob", 1, { index: 1 });
    expect(tokens.infoSync(token, 1)).toBeUndefined();
  });

  it("keeps at most maxTokens, dropping expired ones first, then those closest to expiry", async () => {
    const clock = fakeClock();
    const tokens = new SimpleTokenProvider({ now: clock.now, random: counterRandom(), maxTokens: 3 });
    tokens.enable();
    const t1 = await tokens.assign("a", 1, { index: 1 });
    clock.advance(10);
    const t2 = await tokens.assign("b", 1, { index: 2 });
    clock.advance(10);
    const t3 = await tokens.assign("c", 1, { index: 3 });
    clock.advance(10);
    expect(tokens.infoSync(t1, 1)).toBeDefined(); // t1 now expires last
    const t4 = await tokens.assign("d", 1, { index: 4 });
    expect(tokens.size).toBe(3);
    expect(tokens.infoSync(t2, 1)).toBeUndefined();
    for (const t of [t1, t3, t4]) expect(tokens.infoSync(t, 1)).toBeDefined();
  });
});
