import { readFile } from "node:fs/promises";
import { AuthError } from "./errors.js";
import { parseGoDurationMs } from "./go-duration.js";
import { defaultJwtTtlMs, isJwtSignMethod, type JwtSignMethod, JwtTokenProvider } from "./jwt-token.js";
import { SimpleTokenProvider } from "./simple-token.js";
import type { TokenProvider } from "./token-provider.js";

/** AuthTokenOption is a parsed `--auth-token` value. */
export type AuthTokenOption =
  | { readonly type: "none" }
  | { readonly type: "simple" }
  | {
      readonly type: "jwt";
      readonly signMethod: JwtSignMethod;
      readonly publicKeyPath: string | undefined;
      readonly privateKeyPath: string | undefined;
      readonly ttlMs: number;
    };

const jwtOptionNames = new Set(["pub-key", "priv-key", "sign-method", "ttl"]);

/**
 * parseAuthTokenOption parses etcd's `--auth-token` syntax: `simple`, or
 * `jwt,pub-key=<path>,priv-key=<path>,sign-method=<RS256|ES256|HS256|...>,ttl=<go duration>`; "" means no
 * token provider. Throws `invalidAuthOpts` on a malformed, duplicated or unknown option, and
 * `invalidAuthMethod` on an unknown sign method.
 */
export function parseAuthTokenOption(text: string): AuthTokenOption {
  const [type, ...rest] = text.split(",");
  const options = new Map<string, string>();
  for (const pair of rest) {
    const parts = pair.split("=");
    if (parts.length !== 2 || parts[0] === "") throw new AuthError("invalidAuthOpts", pair);
    const [name, value] = parts as [string, string];
    if (options.has(name)) throw new AuthError("invalidAuthOpts", `duplicate ${name}`);
    options.set(name, value);
  }
  switch (type) {
    case "":
      if (options.size > 0) throw new AuthError("invalidAuthOpts", text);
      return { type: "none" };
    case "simple":
      if (options.size > 0) throw new AuthError("invalidAuthOpts", "simple takes no options");
      return { type: "simple" };
    case "jwt": {
      for (const name of options.keys()) {
        if (!jwtOptionNames.has(name)) throw new AuthError("invalidAuthOpts", `unknown jwt option ${name}`);
      }
      const signMethod = options.get("sign-method") ?? "";
      if (!isJwtSignMethod(signMethod)) throw new AuthError("invalidAuthMethod", signMethod);
      let ttlMs = defaultJwtTtlMs;
      const ttl = options.get("ttl");
      if (ttl !== undefined) {
        const parsed = parseGoDurationMs(ttl);
        if (parsed === undefined || parsed <= 0) throw new AuthError("invalidAuthOpts", `ttl=${ttl}`);
        ttlMs = parsed;
      }
      const publicKeyPath = options.get("pub-key");
      const privateKeyPath = options.get("priv-key");
      if (publicKeyPath === undefined && privateKeyPath === undefined) throw new AuthError("missingKey");
      return { type: "jwt", signMethod, publicKeyPath, privateKeyPath, ttlMs };
    }
    default:
      throw new AuthError("invalidAuthOpts", `unknown token type ${type}`);
  }
}

/** TokenProviderEnvironment supplies time, randomness and file access to {@link createTokenProvider}. */
export interface TokenProviderEnvironment {
  /** now returns the current time in milliseconds. */
  readonly now: () => number;
  /** random returns a uniform number in [0, 1); use a CSPRNG in production. */
  readonly random: () => number;
  /** simpleTokenTtlMs is `--auth-token-ttl` in milliseconds (default 300 s). */
  readonly simpleTokenTtlMs?: number;
  /** readKeyFile reads a key file (default: node:fs/promises readFile). */
  readonly readKeyFile?: (path: string) => Promise<Uint8Array>;
}

/**
 * createTokenProvider builds the provider an `--auth-token` value names, reading JWT key files. Returns
 * undefined for "" (no tokens: Authenticate then fails, as with etcd's no-op provider).
 */
export async function createTokenProvider(
  option: string | AuthTokenOption,
  env: TokenProviderEnvironment,
): Promise<TokenProvider | undefined> {
  const parsed = typeof option === "string" ? parseAuthTokenOption(option) : option;
  switch (parsed.type) {
    case "none":
      return undefined;
    case "simple":
      return new SimpleTokenProvider({
        now: env.now,
        random: env.random,
        ...(env.simpleTokenTtlMs === undefined ? {} : { ttlMs: env.simpleTokenTtlMs }),
      });
    case "jwt": {
      const read = env.readKeyFile ?? ((path: string) => readFile(path));
      const load = async (path: string | undefined) => {
        if (path === undefined) return undefined;
        try {
          return await read(path);
        } catch (error) {
          throw new AuthError("missingKey", `${path}: ${(error as Error).message}`);
        }
      };
      const publicKey = await load(parsed.publicKeyPath);
      const privateKey = await load(parsed.privateKeyPath);
      return JwtTokenProvider.create({
        signMethod: parsed.signMethod,
        ttlMs: parsed.ttlMs,
        now: env.now,
        ...(publicKey === undefined ? {} : { publicKey }),
        ...(privateKey === undefined ? {} : { privateKey }),
      });
    }
  }
}
