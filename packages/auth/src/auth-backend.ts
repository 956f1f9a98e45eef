import { assert } from "./assert.js";

/**
 * AuthBatch is the part of one backend write batch that the auth store may touch, scoped to the auth
 * sublevel. The server creates one batch per applied raft entry (kv + lease + auth + consistent index) and
 * writes it atomically; the auth store never writes on its own.
 */
export interface AuthBatch {
  put(key: Uint8Array, value: Uint8Array): void;
  del(key: Uint8Array): void;
}

/** AuthBackendReader reads the auth sublevel at start-up: every entry, in key order. */
export interface AuthBackendReader {
  entries(): AsyncIterable<readonly [Uint8Array, Uint8Array]>;
}

/**
 * LevelSublevel is the slice of a classic-level sublevel (opened with `keyEncoding: "view"` and
 * `valueEncoding: "view"`) that {@link levelAuthReader} uses.
 */
export interface LevelSublevel {
  iterator(): AsyncIterable<[Uint8Array, Uint8Array]> & { close(): Promise<void> };
}

/**
 * levelAuthReader adapts a classic-level sublevel to {@link AuthBackendReader}, e.g.
 * `levelAuthReader(db.sublevel("auth", { keyEncoding: "view", valueEncoding: "view" }))`.
 */
export function levelAuthReader(sublevel: LevelSublevel): AuthBackendReader {
  return {
    async *entries() {
      const it = sublevel.iterator();
      try {
        for await (const [key, value] of it) yield [key, value] as const;
      } finally {
        await it.close();
      }
    },
  };
}

// Layout of the auth sublevel. Names are UTF-8 bytes after a one-byte prefix and a slash.
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** authKeys names every key the auth store writes in its sublevel. */
export const authKeys = {
  enabled: encoder.encode("m/enabled"),
  revision: encoder.encode("m/revision"),
  userPrefix: encoder.encode("u/"),
  rolePrefix: encoder.encode("r/"),
} as const;

function withPrefix(prefix: Uint8Array, name: string): Uint8Array {
  const body = encoder.encode(name);
  const key = new Uint8Array(prefix.length + body.length);
  key.set(prefix);
  key.set(body, prefix.length);
  return key;
}

/** userKey is the backend key of a user record. */
export function userKey(name: string): Uint8Array {
  return withPrefix(authKeys.userPrefix, name);
}

/** roleKey is the backend key of a role record. */
export function roleKey(name: string): Uint8Array {
  return withPrefix(authKeys.rolePrefix, name);
}

/** nameAfterPrefix returns the name in `key` if it starts with `prefix`, else undefined. */
export function nameAfterPrefix(key: Uint8Array, prefix: Uint8Array): string | undefined {
  if (key.length < prefix.length) return undefined;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return undefined;
  return decoder.decode(key.subarray(prefix.length));
}

/** encodeRevision stores the auth revision as 8 bytes, big-endian. */
export function encodeRevision(revision: number): Uint8Array {
  assert(
    Number.isSafeInteger(revision) && revision >= 0,
    "auth revision must be a safe non-negative integer",
  );
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(revision));
  return out;
}

/** decodeRevision reads what {@link encodeRevision} wrote. */
export function decodeRevision(bytes: Uint8Array): number {
  assert(bytes.length === 8, "auth revision record must be 8 bytes");
  const value = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
  assert(value <= BigInt(Number.MAX_SAFE_INTEGER), "auth revision must fit a safe integer");
  return Number(value);
}
