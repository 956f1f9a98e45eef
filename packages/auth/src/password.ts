import bcrypt from "bcryptjs";
import { AuthError } from "./errors.js";

/** defaultBcryptCost is etcd's default `--bcrypt-cost`. */
export const defaultBcryptCost = 10;
/** minBcryptCost is the lowest cost bcrypt accepts. */
export const minBcryptCost = 4;
/**
 * maxBcryptCost is our upper bound. bcrypt allows 31, but each step doubles the work: at 16 one hash already
 * takes seconds in JavaScript, and a higher cost would let a configuration error stall every Authenticate.
 */
export const maxBcryptCost = 16;
/** defaultMinPasswordLength accepts any non-empty password, as etcd's server does. */
export const defaultMinPasswordLength = 1;
/** maxPasswordBytes is bcrypt's limit: it ignores every byte after the 72nd, so longer is refused. */
export const maxPasswordBytes = 72;

/**
 * normalizeBcryptCost returns `cost` when it is an integer in [{@link minBcryptCost}, {@link maxBcryptCost}],
 * else {@link defaultBcryptCost} (etcd also falls back to the default on an invalid cost).
 */
export function normalizeBcryptCost(cost: number | undefined): number {
  if (cost === undefined || !Number.isInteger(cost) || cost < minBcryptCost || cost > maxBcryptCost) {
    return defaultBcryptCost;
  }
  return cost;
}

/** PasswordPolicy is how the API layer hashes passwords before it proposes them. */
export interface PasswordPolicy {
  /** bcryptCost is normalized with {@link normalizeBcryptCost}. */
  readonly bcryptCost?: number;
  /** minPasswordLength is the least number of characters a password must have (default 1). */
  readonly minPasswordLength?: number;
}

/**
 * hashPassword hashes a plaintext password with bcrypt and returns it in the shape etcd proposes as
 * `hashedPassword`: the bcrypt hash string, base64-encoded. The server calls it BEFORE proposing a UserAdd or
 * UserChangePassword, so the plaintext never reaches the raft log, the backend or a log line.
 *
 * Throws `passwordTooShort` when the password is shorter than the policy's minimum, and `invalidAuthMgmt`
 * when it is longer than bcrypt can use (72 bytes).
 */
export async function hashPassword(password: string, policy: PasswordPolicy = {}): Promise<string> {
  const minLength = Math.max(policy.minPasswordLength ?? defaultMinPasswordLength, 1);
  if ([...password].length < minLength) throw new AuthError("passwordTooShort");
  if (new TextEncoder().encode(password).length > maxPasswordBytes) {
    throw new AuthError("invalidAuthMgmt", "password longer than 72 bytes");
  }
  const hash = await bcrypt.hash(password, normalizeBcryptCost(policy.bcryptCost));
  return Buffer.from(hash, "utf8").toString("base64");
}

/**
 * decodeHashedPassword turns a proposed `hashedPassword` back into the bcrypt hash bytes the store keeps.
 * Returns undefined when it is not base64 of a bcrypt hash.
 */
export function decodeHashedPassword(hashedPassword: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(hashedPassword)) return undefined;
  const bytes = Buffer.from(hashedPassword, "base64");
  const text = bytes.toString("utf8");
  if (!/^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(text)) return undefined;
  return new Uint8Array(bytes);
}

/** comparePassword checks a plaintext password against stored bcrypt hash bytes, in constant time. */
export async function comparePassword(password: string, hash: Uint8Array): Promise<boolean> {
  if (hash.length === 0) return false;
  return bcrypt.compare(password, Buffer.from(hash).toString("utf8"));
}

let decoyHash: Promise<string> | undefined;

/**
 * burnPasswordCheck spends about as long as a real check at the default cost and always fails. Checking the
 * password of an unknown user this way keeps response times from telling which user names exist.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  decoyHash ??= bcrypt.hash(`decoy-${Math.random()}`, defaultBcryptCost);
  await bcrypt.compare(password, await decoyHash);
  return false;
}
