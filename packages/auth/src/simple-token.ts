import { assert } from "./assert.js";
import type { AuthInfo, TokenAssignContext, TokenProvider } from "./token-provider.js";

/** defaultSimpleTokenTtlMs is etcd's `--auth-token-ttl` default: 300 s. */
export const defaultSimpleTokenTtlMs = 300_000;
/** simpleTokenPrefixLength is the number of random letters before the dot. */
export const simpleTokenPrefixLength = 16;
/** defaultMaxSimpleTokens bounds the live tokens a member keeps; the oldest expiry goes first beyond it. */
export const defaultMaxSimpleTokens = 100_000;

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** SimpleTokenOptions configures a {@link SimpleTokenProvider}; time and randomness are injected. */
export interface SimpleTokenOptions {
  /** now returns the current time in milliseconds (e.g. `Date.now`). */
  readonly now: () => number;
  /** random returns a uniformly distributed number in [0, 1) (use a CSPRNG in production). */
  readonly random: () => number;
  /** ttlMs is how long a token lives after its last use (default 300 s). */
  readonly ttlMs?: number;
  /** maxTokens bounds the number of live tokens (default 100,000). */
  readonly maxTokens?: number;
}

interface SimpleTokenEntry {
  readonly username: string;
  expiresAtMs: number;
}

/**
 * SimpleTokenProvider issues etcd's `simple` tokens: `<16 random letters>.<raft index>`, kept in memory,
 * living `ttlMs` after their last use (each successful lookup extends it). Tokens die when their user is
 * deleted or changes password, and all die when auth is disabled. Expiry is checked lazily on lookup and
 * on assign, so the provider runs no timer.
 */
export class SimpleTokenProvider implements TokenProvider {
  readonly kind = "simple" as const;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #ttlMs: number;
  readonly #maxTokens: number;
  readonly #tokens = new Map<string, SimpleTokenEntry>();
  #enabled = false;

  constructor(options: SimpleTokenOptions) {
    this.#now = options.now;
    this.#random = options.random;
    this.#ttlMs = options.ttlMs ?? defaultSimpleTokenTtlMs;
    this.#maxTokens = options.maxTokens ?? defaultMaxSimpleTokens;
    assert(Number.isSafeInteger(this.#ttlMs) && this.#ttlMs > 0, "simple token ttl must be positive");
    assert(Number.isSafeInteger(this.#maxTokens) && this.#maxTokens > 0, "maxTokens must be positive");
  }

  /** size is the number of tokens held (expired ones may linger until the next lookup or assign). */
  get size(): number {
    return this.#tokens.size;
  }

  enable(): void {
    this.#enabled = true;
  }

  disable(): void {
    this.#enabled = false;
    this.#tokens.clear();
  }

  genTokenPrefix(): string {
    let prefix = "";
    for (let i = 0; i < simpleTokenPrefixLength; i++) {
      const r = this.#random();
      assert(r >= 0 && r < 1, "random() must return a number in [0, 1)");
      prefix += letters[Math.floor(r * letters.length)];
    }
    return prefix;
  }

  async assign(username: string, _revision: number, context: TokenAssignContext): Promise<string> {
    assert(Number.isSafeInteger(context.index) && context.index >= 0, "token index must be a safe integer");
    const prefix = context.simpleTokenPrefix ?? this.genTokenPrefix();
    assert(/^[A-Za-z]+$/.test(prefix), "simple token prefix must be letters");
    const token = `${prefix}.${context.index}`;
    const now = this.#now();
    if (this.#tokens.size >= this.#maxTokens) this.#evict(now);
    this.#tokens.set(token, { username, expiresAtMs: now + this.#ttlMs });
    return token;
  }

  async info(token: string, currentRevision: number): Promise<AuthInfo | undefined> {
    return this.infoSync(token, currentRevision);
  }

  /** infoSync is {@link SimpleTokenProvider.info} without the promise. */
  infoSync(token: string, currentRevision: number): AuthInfo | undefined {
    if (!this.#enabled) return undefined;
    const entry = this.#tokens.get(token);
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (now >= entry.expiresAtMs) {
      this.#tokens.delete(token);
      return undefined;
    }
    entry.expiresAtMs = now + this.#ttlMs;
    return { username: entry.username, revision: currentRevision };
  }

  invalidateUser(username: string): void {
    for (const [token, entry] of this.#tokens) {
      if (entry.username === username) this.#tokens.delete(token);
    }
  }

  // Drops expired tokens; if still full, drops the tokens closest to expiry until one slot is free.
  #evict(now: number): void {
    for (const [token, entry] of this.#tokens) {
      if (now >= entry.expiresAtMs) this.#tokens.delete(token);
    }
    if (this.#tokens.size < this.#maxTokens) return;
    const byExpiry = [...this.#tokens].sort((a, b) => a[1].expiresAtMs - b[1].expiresAtMs);
    for (const [token] of byExpiry.slice(0, this.#tokens.size - this.#maxTokens + 1))
      this.#tokens.delete(token);
  }
}
