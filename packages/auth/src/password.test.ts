import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { authErrorMessages } from "./errors.js";
import {
  comparePassword,
  decodeHashedPassword,
  defaultBcryptCost,
  hashPassword,
  maxBcryptCost,
  minBcryptCost,
  normalizeBcryptCost,
} from "./password.js";

describe("bcrypt cost", () => {
  it("keeps a cost within [4, 16] and falls back to 10 otherwise", () => {
    expect(defaultBcryptCost).toBe(10);
    expect(normalizeBcryptCost(minBcryptCost)).toBe(4);
    expect(normalizeBcryptCost(12)).toBe(12);
    expect(normalizeBcryptCost(maxBcryptCost)).toBe(16);
    for (const bad of [undefined, 3, 17, 31, -1, 0, 4.5, Number.NaN])
      expect(normalizeBcryptCost(bad)).toBe(10);
  });

  it("hashes with the configured cost", async () => {
    const hashed = await hashPassword("secret", { bcryptCost: 5 });
    const hash = Buffer.from(hashed, "base64").toString("utf8");
    expect(bcrypt.getRounds(hash)).toBe(5);
  });

  it("uses the default cost for an out-of-range one", () => {
    // Hashing at cost 10 is slow in tests; check the rounds the normalizer picks instead of hashing.
    expect(normalizeBcryptCost(99)).toBe(defaultBcryptCost);
  });
});

describe("hashPassword and comparePassword", () => {
  it("round-trips: the proposed hashedPassword decodes to a bcrypt hash that checks the password", async () => {
    const hashed = await hashPassword("p@ss word", { bcryptCost: 4 });
    expect(hashed).not.toContain("p@ss");
    const stored = decodeHashedPassword(hashed);
    expect(stored).toBeDefined();
    if (stored === undefined) return;
    expect(await comparePassword("p@ss word", stored)).toBe(true);
    expect(await comparePassword("p@ss words", stored)).toBe(false);
    expect(await comparePassword("", new Uint8Array(0))).toBe(false);
  });

  it("enforces the minimum length (counting characters) and bcrypt's 72-byte limit", async () => {
    await expect(hashPassword("", { bcryptCost: 4 })).rejects.toThrow(authErrorMessages.passwordTooShort);
    await expect(hashPassword("short", { bcryptCost: 4, minPasswordLength: 8 })).rejects.toThrow(
      authErrorMessages.passwordTooShort,
    );
    await expect(hashPassword("ééééééé", { bcryptCost: 4, minPasswordLength: 8 })).rejects.toThrow(
      authErrorMessages.passwordTooShort,
    );
    await expect(hashPassword("long enough", { bcryptCost: 4, minPasswordLength: 8 })).resolves.toBeTypeOf(
      "string",
    );
    await expect(hashPassword("x".repeat(73), { bcryptCost: 4 })).rejects.toThrow(
      authErrorMessages.invalidAuthMgmt,
    );
  });

  it("rejects a hashedPassword that is not base64 of a bcrypt hash", () => {
    expect(decodeHashedPassword("")).toBeUndefined();
    expect(decodeHashedPassword("not base64!")).toBeUndefined();
    expect(decodeHashedPassword(Buffer.from("plaintext").toString("base64"))).toBeUndefined();
  });
});
