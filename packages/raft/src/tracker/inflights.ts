import { assert } from "../assert.js";

/**
 * Inflights is the sliding window of MsgApp messages sent to one follower and not yet acknowledged,
 * bounded both by count (`maxCount`) and by bytes (`maxBytes`, 0 = unbounded). Each record is the last
 * index a message carried and its payload size.
 */
export class Inflights {
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  private n = 0;
  private bytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes = 0,
  ) {
    assert(maxCount > 0, "inflights: maxCount must be positive");
    this.indexes = new Array<number>(maxCount).fill(0);
    this.sizes = new Array<number>(maxCount).fill(0);
  }

  /** clone returns an independent copy. */
  clone(): Inflights {
    const c = new Inflights(this.maxCount, this.maxBytes);
    for (let i = 0; i < this.n; i++) {
      const j = (this.start + i) % this.maxCount;
      c.add(this.indexes[j]!, this.sizes[j]!);
    }
    return c;
  }

  /** add records a message whose last entry is `index`; the window must not be full. */
  add(index: number, sizeBytes: number): void {
    assert(!this.full(), "cannot add into a full inflights");
    const j = (this.start + this.n) % this.maxCount;
    this.indexes[j] = index;
    this.sizes[j] = sizeBytes;
    this.n++;
    this.bytes += sizeBytes;
  }

  /** freeLE frees every message whose last index is <= `to` (acknowledged). */
  freeLE(to: number): void {
    while (this.n > 0 && this.indexes[this.start]! <= to) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxCount;
      this.n--;
    }
    if (this.n === 0) this.start = 0;
  }

  /** freeFirstOne frees the oldest message (used when a heartbeat response shows the peer is alive). */
  freeFirstOne(): void {
    if (this.n > 0) this.freeLE(this.indexes[this.start]!);
  }

  full(): boolean {
    return this.n === this.maxCount || (this.maxBytes !== 0 && this.bytes >= this.maxBytes);
  }

  count(): number {
    return this.n;
  }

  sizeBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.start = 0;
    this.n = 0;
    this.bytes = 0;
  }
}
