/**
 * hashString is cyrb53, a fast 53-bit non-cryptographic string hash; the checker uses it to fingerprint
 * model states incrementally (a collision could only merge two search states, at odds of ~2^-53).
 */
export function hashString(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** chainHash folds `text` into an existing hash (a rolling fingerprint of a sequence). */
export function chainHash(previous: number, text: string): number {
  return hashString(text, previous % 0x7fffffff);
}
