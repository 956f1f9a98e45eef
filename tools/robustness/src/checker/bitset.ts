import { assert } from "../assert.js";

/**
 * Bitset is a fixed-size set of operation indexes: the "linearized so far" set of the WGL search. Its
 * `key()` is part of the memoisation key, so it is kept compact (hex words).
 */
export class Bitset {
  readonly #words: Uint32Array;
  readonly size: number;

  constructor(size: number) {
    assert(Number.isSafeInteger(size) && size >= 0, `bitset size ${size}`);
    this.size = size;
    this.#words = new Uint32Array(Math.ceil(size / 32));
  }

  /** set adds index `i`. */
  set(i: number): void {
    assert(i >= 0 && i < this.size, `bit ${i} out of ${this.size}`);
    const w = i >>> 5;
    this.#words[w] = (this.#words[w] ?? 0) | (1 << (i & 31));
  }

  /** clear removes index `i`. */
  clear(i: number): void {
    assert(i >= 0 && i < this.size, `bit ${i} out of ${this.size}`);
    const w = i >>> 5;
    this.#words[w] = (this.#words[w] ?? 0) & ~(1 << (i & 31));
  }

  /** has tells whether index `i` is in the set. */
  has(i: number): boolean {
    return (((this.#words[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1;
  }

  /** count is the number of indexes in the set. */
  count(): number {
    let n = 0;
    for (const word of this.#words) {
      let x = word;
      while (x !== 0) {
        x &= x - 1;
        n++;
      }
    }
    return n;
  }

  /** key is a string that is equal for two bitsets exactly when they hold the same indexes. */
  key(): string {
    let out = "";
    for (const word of this.#words) out += `${word.toString(36)},`;
    return out;
  }
}
