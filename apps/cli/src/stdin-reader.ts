/**
 * StdinReader: stdin read once and shared, either whole (put's value) or line by line (txn, watch -i,
 * prompts), so that a command can mix both without losing buffered input.
 */
import type { Readable } from "node:stream";

/** StdinReader wraps a readable stream. */
export class StdinReader {
  private readonly input: Readable;
  private buffered = "";
  private ended = false;
  private waiters: Array<() => void> = [];
  private started = false;
  private chunks: Buffer[] = [];

  constructor(input: Readable) {
    this.input = input;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.input.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.toString("utf8");
      this.wake();
    });
    this.input.on("end", () => {
      this.ended = true;
      this.wake();
    });
    this.input.on("error", () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** readAll resolves with everything until end of input. */
  async readAll(): Promise<Buffer> {
    this.start();
    while (!this.ended) await new Promise<void>((r) => this.waiters.push(r));
    return Buffer.concat(this.chunks);
  }

  /** lines yields each line (without its newline); the last unterminated line too. */
  async *lines(): AsyncGenerator<string> {
    this.start();
    for (;;) {
      const nl = this.buffered.indexOf("\n");
      if (nl >= 0) {
        const l = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        yield l;
        continue;
      }
      if (this.ended) {
        if (this.buffered !== "") {
          const l = this.buffered;
          this.buffered = "";
          yield l;
        }
        return;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** pause stops reading (so the process can exit while stdin stays open). */
  pause(): void {
    this.input.pause();
    (this.input as Readable & { unref?: () => void }).unref?.();
  }
}
