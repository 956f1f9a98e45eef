import { describe, expect, it } from "vitest";
import { type AuthErrorCode, isAuthError } from "./errors.js";
import { parseGoDurationMs } from "./go-duration.js";
import { createTokenProvider, parseAuthTokenOption } from "./token-options.js";

function codeOf(fn: () => unknown): AuthErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (isAuthError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe("--auth-token", () => {
  it("parses simple, jwt and empty", () => {
    expect(parseAuthTokenOption("simple")).toEqual({ type: "simple" });
    expect(parseAuthTokenOption("")).toEqual({ type: "none" });
    expect(parseAuthTokenOption("jwt,pub-key=/k.pub,priv-key=/k.priv,sign-method=RS256,ttl=10m")).toEqual({
      type: "jwt",
      signMethod: "RS256",
      publicKeyPath: "/k.pub",
      privateKeyPath: "/k.priv",
      ttlMs: 600_000,
    });
    expect(parseAuthTokenOption("jwt,priv-key=/s,sign-method=HS256")).toMatchObject({ ttlMs: 300_000 });
  });

  it("refuses malformed options with etcd's errors", () => {
    expect(codeOf(() => parseAuthTokenOption("bogus"))).toBe("invalidAuthOpts");
    expect(codeOf(() => parseAuthTokenOption("simple,ttl=5m"))).toBe("invalidAuthOpts");
    expect(codeOf(() => parseAuthTokenOption("jwt,priv-key"))).toBe("invalidAuthOpts");
    expect(codeOf(() => parseAuthTokenOption("jwt,priv-key=a,priv-key=b,sign-method=HS256"))).toBe(
      "invalidAuthOpts",
    );
    expect(codeOf(() => parseAuthTokenOption("jwt,priv-key=a,sign-method=HS256,colour=red"))).toBe(
      "invalidAuthOpts",
    );
    expect(codeOf(() => parseAuthTokenOption("jwt,priv-key=a,sign-method=XX999"))).toBe("invalidAuthMethod");
    expect(codeOf(() => parseAuthTokenOption("jwt,priv-key=a,sign-method=HS256,ttl=soon"))).toBe(
      "invalidAuthOpts",
    );
    expect(codeOf(() => parseAuthTokenOption("jwt,sign-method=HS256"))).toBe("missingKey");
  });

  it("builds a simple provider with the injected clock, random source and ttl, and none for ''", async () => {
    let now = 0;
    const provider = await createTokenProvider("simple", {
      now: () => now,
      random: () => 0,
      simpleTokenTtlMs: 10,
    });
    expect(provider?.kind).toBe("simple");
    provider?.enable();
    const token = (await provider?.assign("u", 1, { index: 1 })) ?? "";
    expect(token).toBe("aaaaaaaaaaaaaaaa.1");
    now = 10;
    expect(await provider?.info(token, 1)).toBeUndefined();
    expect(await createTokenProvider("", { now: () => 0, random: () => 0 })).toBeUndefined();
  });
});

describe("parseGoDurationMs", () => {
  it("reads Go durations", () => {
    expect(parseGoDurationMs("10m")).toBe(600_000);
    expect(parseGoDurationMs("1h30m")).toBe(5_400_000);
    expect(parseGoDurationMs("300s")).toBe(300_000);
    expect(parseGoDurationMs("1.5s")).toBe(1500);
    expect(parseGoDurationMs("250ms")).toBe(250);
    expect(parseGoDurationMs("0")).toBe(0);
    for (const bad of ["", "10", "m", "10x", "1h 2m", "-5s"]) expect(parseGoDurationMs(bad)).toBeUndefined();
  });
});
