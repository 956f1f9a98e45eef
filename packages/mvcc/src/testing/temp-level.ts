import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import type { Backend, BackendBatch } from "../backend.js";
import { levelBackend, sublevelBatch } from "../backend.js";

/** TempLevel is a real classic-level database in a temp dir with the store's sublevel, for tests. */
export class TempLevel {
  readonly dir: string;
  db: ClassicLevel<Uint8Array, Uint8Array>;
  sublevel: ReturnType<TempLevel["openSublevel"]>;
  backend: Backend;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), "mvcc-test-"));
    this.db = new ClassicLevel<Uint8Array, Uint8Array>(this.dir, {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    this.sublevel = this.openSublevel();
    this.backend = levelBackend(this.sublevel);
  }

  private openSublevel() {
    return this.db.sublevel<Uint8Array, Uint8Array>("kv", { keyEncoding: "view", valueEncoding: "view" });
  }

  async open(): Promise<void> {
    await this.db.open();
    await this.sublevel.open();
  }

  /** apply runs `fill` against a fresh root batch scoped to the sublevel and writes it, like the server. */
  async apply<T>(fill: (batch: BackendBatch) => Promise<T> | T): Promise<T> {
    const batch = this.db.batch();
    const result = await fill(sublevelBatch(batch, this.sublevel));
    await batch.write();
    return result;
  }

  /** reopen closes and reopens the same directory. */
  async reopen(): Promise<void> {
    await this.db.close();
    this.db = new ClassicLevel<Uint8Array, Uint8Array>(this.dir, {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    this.sublevel = this.openSublevel();
    this.backend = levelBackend(this.sublevel);
    await this.open();
  }

  async destroy(): Promise<void> {
    await this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
