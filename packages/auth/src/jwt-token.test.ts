import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { AuthUserAddRequestSchema, AuthUserGrantRoleRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { afterAll, describe, expect, it } from "vitest";
import type { AuthBatch } from "./auth-backend.js";
import { AuthStore } from "./auth-store.js";
import { authErrorMessages } from "./errors.js";
import { JwtTokenProvider } from "./jwt-token.js";
import { MemoryAuthBackend } from "./memory-auth-backend.js";
import { hashPassword } from "./password.js";
import { createTokenProvider } from "./token-options.js";

const dir = mkdtempSync(join(tmpdir(), "etcd-ts-auth-jwt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writePair(name: string, pair: { publicKey: string; privateKey: string }) {
  const pub = join(dir, `${name}.pub.pem`);
  const priv = join(dir, `${name}.priv.pem`);
  writeFileSync(pub, pair.publicKey);
  writeFileSync(priv, pair.privateKey);
  return { pub, priv };
}
const rsa = writePair(
  "rsa",
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  }),
);
const rsa2 = writePair(
  "rsa2",
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  }),
);
const ec = writePair(
  "ec",
  generateKeyPairSync("ec", {
    namedCurve: "P-256",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  }),
);
const secret = join(dir, "hmac.key");
writeFileSync(secret, "a shared secret that is long enough for HS256");

function fakeEnv(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    random: Math.random,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("JWT tokens", () => {
  for (const [method, keys] of [
    ["RS256", rsa],
    ["ES256", ec],
  ] as const) {
    it(`${method}: round trip from key files, expiring after the ttl`, async () => {
      const env = fakeEnv();
      const provider = await createTokenProvider(
        `jwt,pub-key=${keys.pub},priv-key=${keys.priv},sign-method=${method},ttl=10m`,
        env,
      );
      expect(provider?.kind).toBe("jwt");
      if (provider === undefined) throw new Error("no provider");
      provider.enable();
      const token = await provider.assign("alice", 17, { index: 1 });
      expect(token.split(".")).toHaveLength(3);
      expect(await provider.info(token, 99)).toEqual({ username: "alice", revision: 17 });
      env.advance(9 * 60_000);
      expect(await provider.info(token, 99)).toBeDefined();
      env.advance(61_000);
      expect(await provider.info(token, 99)).toBeUndefined();
    });
  }

  it("HS256 with a shared secret from priv-key", async () => {
    const env = fakeEnv();
    const provider = await createTokenProvider(`jwt,priv-key=${secret},sign-method=HS256`, env);
    if (provider === undefined) throw new Error("no provider");
    provider.enable();
    const token = await provider.assign("bob", 3, { index: 1 });
    expect(await provider.info(token, 3)).toEqual({ username: "bob", revision: 3 });
    env.advance(5 * 60_000); // default ttl is 5 minutes
    expect(await provider.info(token, 3)).toBeUndefined();
  });

  it("rejects tampered, foreign and malformed tokens, and every token while disabled", async () => {
    const env = fakeEnv();
    const a = await createTokenProvider(`jwt,pub-key=${rsa.pub},priv-key=${rsa.priv},sign-method=RS256`, env);
    const b = await createTokenProvider(
      `jwt,pub-key=${rsa2.pub},priv-key=${rsa2.priv},sign-method=RS256`,
      env,
    );
    if (a === undefined || b === undefined) throw new Error("no provider");
    a.enable();
    b.enable();
    const token = await a.assign("alice", 1, { index: 1 });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ username: "root", revision: 1, exp: 9_999_999_999 }),
    ).toString("base64url");
    expect(await a.info(`${header}.${forged}.${signature}`, 1)).toBeUndefined();
    expect(await a.info(`${header}.${payload}.${signature.slice(0, -4)}AAAA`, 1)).toBeUndefined();
    expect(await b.info(token, 1)).toBeUndefined();
    expect(await a.info("not-a-jwt", 1)).toBeUndefined();
    a.disable();
    expect(await a.info(token, 1)).toBeUndefined();
  });

  it("a verify-only provider (public key alone) verifies but cannot sign", async () => {
    const env = fakeEnv();
    const signer = await createTokenProvider(
      `jwt,pub-key=${ec.pub},priv-key=${ec.priv},sign-method=ES256`,
      env,
    );
    const verifier = await createTokenProvider(`jwt,pub-key=${ec.pub},sign-method=ES256`, env);
    if (signer === undefined || verifier === undefined) throw new Error("no provider");
    signer.enable();
    verifier.enable();
    const token = await signer.assign("carol", 4, { index: 1 });
    expect(await verifier.info(token, 4)).toEqual({ username: "carol", revision: 4 });
    await expect(verifier.assign("carol", 4, { index: 1 })).rejects.toThrow(authErrorMessages.verifyOnly);
  });

  it("refuses mismatched keys, a key of the wrong kind and missing key files", async () => {
    const env = fakeEnv();
    await expect(
      createTokenProvider(`jwt,pub-key=${rsa2.pub},priv-key=${rsa.priv},sign-method=RS256`, env),
    ).rejects.toThrow(authErrorMessages.keyMismatch);
    await expect(createTokenProvider(`jwt,priv-key=${rsa.priv},sign-method=ES256`, env)).rejects.toThrow(
      authErrorMessages.invalidAuthMethod,
    );
    await expect(
      createTokenProvider(`jwt,priv-key=${join(dir, "absent")},sign-method=RS256`, env),
    ).rejects.toThrow(authErrorMessages.missingKey);
    await expect(JwtTokenProvider.create({ signMethod: "HS256", now: env.now })).rejects.toThrow(
      authErrorMessages.missingKey,
    );
  });
});

describe("JWT tokens with the auth store", () => {
  it("a token issued before an auth change is refused as old; a fresh one works", async () => {
    const env = fakeEnv();
    const tokenProvider = await createTokenProvider(`jwt,priv-key=${secret},sign-method=HS256,ttl=1h`, env);
    const backend = new MemoryAuthBackend();
    const store = new AuthStore(tokenProvider === undefined ? {} : { tokenProvider });
    const apply = (fn: (batch: AuthBatch) => void) => {
      const batch = backend.batch();
      fn(batch);
      batch.write();
    };
    const hashedPassword = await hashPassword("pw", { bcryptCost: 4 });
    apply((b) => store.applyUserAdd(b, create(AuthUserAddRequestSchema, { name: "root", hashedPassword })));
    apply((b) =>
      store.applyUserGrantRole(b, create(AuthUserGrantRoleRequestSchema, { user: "root", role: "root" })),
    );
    apply((b) => store.applyAuthEnable(b));

    const old = await store.applyAuthenticate("root", { index: 10 });
    const oldInfo = await store.authInfoFromToken(old);
    expect(oldInfo).toEqual({ username: "root", revision: store.revision });
    store.checkAdminPermitted(oldInfo);
    store.checkRangePermitted(oldInfo, new Uint8Array([0]), new Uint8Array([0]));

    apply((b) => store.applyRoleAdd(b, { name: "bump" }));
    const stale = await store.authInfoFromToken(old);
    expect(() => store.checkRangePermitted(stale, new Uint8Array([0x61]), new Uint8Array(0))).toThrow(
      authErrorMessages.authOldRevision,
    );
    const fresh = await store.authInfoFromToken(await store.applyAuthenticate("root", { index: 11 }));
    store.checkRangePermitted(fresh, new Uint8Array([0x61]), new Uint8Array(0));
  });
});
