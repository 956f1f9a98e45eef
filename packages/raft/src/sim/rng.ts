/**
 * Rng is a small seeded pseudo-random generator (mulberry32). Every random choice of the simulation
 * comes from one Rng, so a seed replays a run exactly.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed ^ 0x9e3779b9) >>> 0;
    // Discard a few outputs so that nearby seeds diverge quickly.
    for (let i = 0; i < 4; i++) this.next();
  }

  /** next returns a float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** int returns an integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** chance returns true with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** pick returns a random element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}
