import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { assert } from "./assert.js";
import { AuthError } from "./errors.js";
import type { AuthInfo, TokenAssignContext, TokenProvider } from "./token-provider.js";

/** defaultJwtTtlMs is etcd's default JWT lifetime: 5 minutes. */
export const defaultJwtTtlMs = 300_000;

/** jwtSignMethods lists the `sign-method` values etcd accepts. */
export const jwtSignMethods = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "HS256",
  "HS384",
  "HS512",
  "EdDSA",
] as const;

/** JwtSignMethod is one of {@link jwtSignMethods}. */
export type JwtSignMethod = (typeof jwtSignMethods)[number];

/** isJwtSignMethod tells whether `value` names a supported signature method. */
export function isJwtSignMethod(value: string): value is JwtSignMethod {
  return (jwtSignMethods as readonly string[]).includes(value);
}

/** JwtKeyMaterial is the PEM (or, for HS*, raw secret) content of the key files. */
export interface JwtKeyMaterial {
  readonly signMethod: JwtSignMethod;
  /** publicKey is a PEM public key (asymmetric methods); optional when privateKey is given. */
  readonly publicKey?: Uint8Array | string;
  /** privateKey is a PEM private key, or the shared secret for HS*; without it the provider only verifies. */
  readonly privateKey?: Uint8Array | string;
}

/** JwtTokenOptions configures a {@link JwtTokenProvider}. */
export interface JwtTokenOptions extends JwtKeyMaterial {
  /** ttlMs is each token's lifetime (default 5 minutes). */
  readonly ttlMs?: number;
  /** now returns the current time in milliseconds (e.g. `Date.now`). */
  readonly now: () => number;
}

type SigningKey = KeyObject | Uint8Array;

/**
 * JwtTokenProvider issues signed JWTs carrying `username`, `revision` and `exp`, as etcd's `jwt` tokens do.
 * Any member holding the public key can verify a token, so nothing is kept in memory: a token stays valid
 * until it expires, and a password change or user deletion is caught by the auth revision check (the token's
 * revision becomes old) and by the user lookup in every permission check.
 */
export class JwtTokenProvider implements TokenProvider {
  readonly kind = "jwt" as const;
  readonly #signMethod: JwtSignMethod;
  readonly #signKey: SigningKey | undefined;
  readonly #verifyKey: SigningKey;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #enabled = false;

  private constructor(
    signMethod: JwtSignMethod,
    signKey: SigningKey | undefined,
    verifyKey: SigningKey,
    ttlMs: number,
    now: () => number,
  ) {
    this.#signMethod = signMethod;
    this.#signKey = signKey;
    this.#verifyKey = verifyKey;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /**
   * create loads the keys and, when both halves of a key pair are given, checks that they belong together.
   * Throws `missingKey`, `keyMismatch` or `invalidAuthMethod`.
   */
  static async create(options: JwtTokenOptions): Promise<JwtTokenProvider> {
    const ttlMs = options.ttlMs ?? defaultJwtTtlMs;
    assert(Number.isSafeInteger(ttlMs) && ttlMs > 0, "jwt ttl must be positive");
    const method = options.signMethod;
    if (!isJwtSignMethod(method)) throw new AuthError("invalidAuthMethod", String(method));
    if (method.startsWith("HS")) {
      if (options.privateKey === undefined || options.privateKey.length === 0) {
        throw new AuthError("missingKey", "HMAC sign methods need priv-key (the shared secret)");
      }
      const secret =
        typeof options.privateKey === "string"
          ? new TextEncoder().encode(options.privateKey)
          : options.privateKey;
      return new JwtTokenProvider(method, secret, secret, ttlMs, options.now);
    }
    let signKey: KeyObject | undefined;
    let verifyKey: KeyObject | undefined;
    try {
      if (options.privateKey !== undefined) signKey = createPrivateKey(toPem(options.privateKey));
      if (options.publicKey !== undefined) verifyKey = createPublicKey(toPem(options.publicKey));
    } catch (error) {
      throw new AuthError("missingKey", `cannot parse key: ${(error as Error).message}`);
    }
    if (verifyKey === undefined) {
      if (signKey === undefined) throw new AuthError("missingKey", "jwt needs pub-key and/or priv-key");
      verifyKey = createPublicKey(signKey);
    }
    const provider = new JwtTokenProvider(method, signKey, verifyKey, ttlMs, options.now);
    if (signKey !== undefined) {
      // A probe token proves the pair matches (and that the key fits the method) before any client sees one.
      let probe: string;
      try {
        probe = await provider.#sign("probe", 0);
      } catch (error) {
        throw new AuthError("invalidAuthMethod", `${method}: ${(error as Error).message}`);
      }
      if ((await provider.#verify(probe)) === undefined) throw new AuthError("keyMismatch");
    }
    return provider;
  }

  enable(): void {
    this.#enabled = true;
  }

  disable(): void {
    this.#enabled = false;
  }

  genTokenPrefix(): string {
    return "";
  }

  invalidateUser(_username: string): void {
    // Stateless: the auth revision check and the user lookup reject the old tokens.
  }

  async assign(username: string, revision: number, _context: TokenAssignContext): Promise<string> {
    return this.#sign(username, revision);
  }

  async info(token: string, _currentRevision: number): Promise<AuthInfo | undefined> {
    if (!this.#enabled) return undefined;
    return this.#verify(token);
  }

  async #sign(username: string, revision: number): Promise<string> {
    if (this.#signKey === undefined) throw new AuthError("verifyOnly");
    const expSeconds = Math.floor((this.#now() + this.#ttlMs) / 1000);
    return new SignJWT({ username, revision })
      .setProtectedHeader({ alg: this.#signMethod })
      .setExpirationTime(expSeconds)
      .sign(this.#signKey);
  }

  async #verify(token: string): Promise<AuthInfo | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#verifyKey, {
        algorithms: [this.#signMethod],
        currentDate: new Date(this.#now()),
        requiredClaims: ["exp"],
      });
      const { username, revision } = payload as { username?: unknown; revision?: unknown };
      if (typeof username !== "string" || username.length === 0) return undefined;
      if (typeof revision !== "number" || !Number.isSafeInteger(revision) || revision < 0) return undefined;
      return { username, revision };
    } catch {
      return undefined;
    }
  }
}

function toPem(key: Uint8Array | string): string {
  return typeof key === "string" ? key : Buffer.from(key).toString("utf8");
}
