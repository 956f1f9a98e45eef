import { dirname } from "node:path";
import type { WalFileHandle, WalFs } from "./fs.js";

/** MemFsOp names the operations {@link MemWalFs} counts and can fail. */
export type MemFsOp =
  | "open"
  | "read"
  | "pwrite"
  | "fdatasync"
  | "truncate"
  | "rename"
  | "unlink"
  | "fsyncDir"
  | "readdir"
  | "mkdir";

/** MemFsFault is one injected failure: the next matching call (after `skipCalls` of them) throws. */
export interface MemFsFault {
  op: MemFsOp;
  /** The error code thrown (default "EIO"); "ENOSPC" models a full disk. */
  code?: string;
  /** How many matching calls succeed before this one fails (default 0). */
  skipCalls?: number;
  /** For pwrite: how many bytes reach the file before the error (a short write). Default 0. */
  partialBytes?: number;
  /** Only calls on this path (default: any). */
  path?: string;
}

/** MemCrashOptions decides what unsynced state survives {@link MemWalFs.crash}. */
export interface MemCrashOptions {
  /**
   * A random source in [0, 1). Without it only synced state survives. With it, every file keeps a random
   * prefix of its unsynced writes, the first one not kept may be torn at a random byte (the rest of it
   * keeps the old content, or garbage), and every directory keeps a random prefix of its unsynced changes.
   */
  random?: () => number;
}

type UnsyncedOp = { kind: "write"; position: number; data: Uint8Array } | { kind: "truncate"; size: number };

type DirOp =
  | { kind: "link"; path: string; file: MemFile }
  | { kind: "unlink"; path: string }
  | { kind: "rename"; from: string; to: string; file: MemFile };

/** MemFile is one inode: its current bytes, its bytes as of the last fdatasync, and what is in between. */
class MemFile {
  data: Uint8Array;
  durable: Uint8Array;
  unsynced: UnsyncedOp[] = [];

  constructor(data = new Uint8Array(0)) {
    this.data = data.slice();
    this.durable = data.slice();
  }

  copy(): MemFile {
    const file = new MemFile();
    file.data = this.data.slice();
    file.durable = this.durable.slice();
    file.unsynced = this.unsynced.map((op) => (op.kind === "write" ? { ...op, data: op.data.slice() } : op));
    return file;
  }
}

function resized(data: Uint8Array, size: number): Uint8Array {
  if (size === data.length) return data;
  const next = new Uint8Array(size);
  next.set(data.subarray(0, Math.min(size, data.length)));
  return next;
}

function writeInto(data: Uint8Array, position: number, bytes: Uint8Array): Uint8Array {
  const out = position + bytes.length > data.length ? resized(data, position + bytes.length) : data;
  out.set(bytes, position);
  return out;
}

function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * MemWalFs is an in-memory {@link WalFs} that models what a disk keeps through a power cut: file data
 * written but not fdatasync'ed, and names created, renamed or removed but not fsyncDir'ed, may be lost or
 * torn by {@link MemWalFs.crash}. It also injects faults (EIO, ENOSPC, short writes), freezes after a
 * given number of operations (a crash at an arbitrary point), flips bits, and counts every call.
 *
 * Directories are modelled as always durable (only the names in them are not).
 */
export class MemWalFs implements WalFs {
  /** How often each operation was called (successful or not). */
  readonly counts: Record<MemFsOp, number> = {
    open: 0,
    read: 0,
    pwrite: 0,
    fdatasync: 0,
    truncate: 0,
    rename: 0,
    unlink: 0,
    fsyncDir: 0,
    readdir: 0,
    mkdir: 0,
  };

  private readonly callsByPath = new Map<string, number>();
  private names = new Map<string, MemFile>();
  private durableNames = new Map<string, MemFile>();
  private dirOps = new Map<string, DirOp[]>();
  private dirs = new Set<string>(["/"]);
  private faults: MemFsFault[] = [];
  /** Mutating calls left before the disk "loses power"; undefined = never. */
  private opsUntilDown: number | undefined;
  private down = false;
  /** Bumped by every crash; handles from an older generation are dead. */
  private generation = 0;

  /** callsOn returns how often `op` was called on files whose path ends with `suffix`. */
  callsOn(op: MemFsOp, suffix: string): number {
    let total = 0;
    for (const [key, count] of this.callsByPath) {
      if (key.startsWith(`${op} `) && key.endsWith(suffix)) total += count;
    }
    return total;
  }

  /** injectFault arms a one-shot failure. */
  injectFault(fault: MemFsFault): void {
    this.faults.push({ ...fault });
  }

  /**
   * crashAfter makes the disk lose power after `mutatingCalls` more mutating calls: from then on every
   * call throws (code "ECRASHED") until {@link MemWalFs.crash} restarts it.
   */
  crashAfter(mutatingCalls: number): void {
    this.opsUntilDown = mutatingCalls;
  }

  /** isDown tells whether the disk has lost power (see {@link MemWalFs.crashAfter}). */
  get isDown(): boolean {
    return this.down;
  }

  /**
   * crash simulates a power cut and restart: open handles die, and of everything not made durable only
   * what `options.random` lets survive is kept.
   */
  crash(options: MemCrashOptions = {}): void {
    const random = options.random;
    const files = new Set<MemFile>([...this.names.values(), ...this.durableNames.values()]);
    for (const ops of this.dirOps.values()) {
      for (const op of ops) if (op.kind !== "unlink") files.add(op.file);
    }
    for (const file of files) {
      let data = file.durable;
      if (random && file.unsynced.length > 0) {
        const keep = Math.floor(random() * (file.unsynced.length + 1));
        for (let i = 0; i < keep; i++) data = applyOp(data, file.unsynced[i]!);
        const torn = file.unsynced[keep];
        if (torn?.kind === "write" && random() < 0.7) {
          const cut = Math.floor(random() * (torn.data.length + 1));
          data = writeInto(data, torn.position, torn.data.subarray(0, cut));
          if (random() < 0.3) {
            const garbage = new Uint8Array(torn.data.length - cut);
            for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256);
            data = writeInto(data, torn.position + cut, garbage);
          }
        }
      }
      file.data = data.slice();
      file.durable = data.slice();
      file.unsynced = [];
    }
    const names = new Map(this.durableNames);
    if (random) {
      for (const ops of this.dirOps.values()) {
        const keep = Math.floor(random() * (ops.length + 1));
        for (let i = 0; i < keep; i++) applyDirOp(names, ops[i]!);
      }
    }
    this.names = names;
    this.durableNames = new Map(names);
    this.dirOps.clear();
    this.generation++;
    this.down = false;
    this.opsUntilDown = undefined;
    this.faults = [];
  }

  /** clone returns an independent copy of this file system (current and durable state). */
  clone(): MemWalFs {
    const copy = new MemWalFs();
    const map = new Map<MemFile, MemFile>();
    const fileCopy = (file: MemFile): MemFile => {
      let c = map.get(file);
      if (!c) {
        c = file.copy();
        map.set(file, c);
      }
      return c;
    };
    for (const [path, file] of this.names) copy.names.set(path, fileCopy(file));
    for (const [path, file] of this.durableNames) copy.durableNames.set(path, fileCopy(file));
    for (const [dir, ops] of this.dirOps) {
      copy.dirOps.set(
        dir,
        ops.map((op) => (op.kind === "unlink" ? op : { ...op, file: fileCopy(op.file) })),
      );
    }
    copy.dirs = new Set(this.dirs);
    return copy;
  }

  /** listFiles returns the paths of all current files, sorted. */
  listFiles(): string[] {
    return [...this.names.keys()].sort();
  }

  /** readFile returns a copy of a file's current content. */
  readFile(path: string): Uint8Array {
    const file = this.names.get(path);
    if (!file) throw fsError("ENOENT", path);
    return file.data.slice();
  }

  /** writeFile replaces (or creates) a file with `data`, durably, as a test fixture. */
  writeFile(path: string, data: Uint8Array): void {
    const file = this.names.get(path) ?? new MemFile();
    file.data = data.slice();
    file.durable = data.slice();
    file.unsynced = [];
    this.names.set(path, file);
    this.durableNames.set(path, file);
    this.dirs.add(dirname(path));
  }

  /** flipBit flips bit `bit` (0..7) of byte `offset` of a file, in its current and durable content. */
  flipBit(path: string, offset: number, bit: number): void {
    const file = this.names.get(path);
    if (!file || offset >= file.data.length) throw fsError("ENOENT", `${path}@${offset}`);
    file.data[offset]! ^= 1 << bit;
    if (offset < file.durable.length) file.durable[offset]! ^= 1 << bit;
  }

  // ---- WalFs ----

  async open(path: string, options?: { create?: boolean }): Promise<WalFileHandle> {
    this.enter("open", path, options?.create === true);
    if (!this.dirs.has(dirname(path))) throw fsError("ENOENT", dirname(path));
    let file = this.names.get(path);
    if (options?.create) {
      if (file) throw fsError("EEXIST", path);
      file = new MemFile();
      this.names.set(path, file);
      this.pushDirOp(dirname(path), { kind: "link", path, file });
    } else if (!file) {
      throw fsError("ENOENT", path);
    }
    return new MemFileHandle(this, file, path, this.generation);
  }

  async readdir(dir: string): Promise<string[]> {
    this.enter("readdir", dir, false);
    const prefix = dir.endsWith("/") ? dir : `${dir}/`;
    const out: string[] = [];
    for (const path of this.names.keys()) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes("/")) {
        out.push(path.slice(prefix.length));
      }
    }
    return out.sort();
  }

  async mkdir(dir: string): Promise<void> {
    this.enter("mkdir", dir, true);
    let d = dir;
    while (!this.dirs.has(d)) {
      this.dirs.add(d);
      d = dirname(d);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    this.enter("rename", from, true);
    const file = this.names.get(from);
    if (!file) throw fsError("ENOENT", from);
    if (!this.dirs.has(dirname(to))) throw fsError("ENOENT", dirname(to));
    this.names.delete(from);
    this.names.set(to, file);
    const op: DirOp = { kind: "rename", from, to, file };
    this.pushDirOp(dirname(to), op);
    if (dirname(from) !== dirname(to)) this.pushDirOp(dirname(from), { kind: "unlink", path: from });
  }

  async unlink(path: string): Promise<void> {
    this.enter("unlink", path, true);
    if (!this.names.delete(path)) throw fsError("ENOENT", path);
    this.pushDirOp(dirname(path), { kind: "unlink", path });
  }

  async fsyncDir(dir: string): Promise<void> {
    this.enter("fsyncDir", dir, true);
    for (const op of this.dirOps.get(dir) ?? []) applyDirOp(this.durableNames, op);
    this.dirOps.delete(dir);
  }

  // ---- internals used by MemFileHandle ----

  /** enter counts a call, and throws if the disk is down or a fault matches. */
  enter(op: MemFsOp, path: string, mutating: boolean, handleGeneration?: number): MemFsFault | undefined {
    this.counts[op]++;
    const key = `${op} ${path}`;
    this.callsByPath.set(key, (this.callsByPath.get(key) ?? 0) + 1);
    if (handleGeneration !== undefined && handleGeneration !== this.generation) {
      throw fsError("EBADF", `${path}: handle from before a crash`);
    }
    if (this.down) throw fsError("ECRASHED", `${op} ${path}: disk lost power`);
    if (mutating && this.opsUntilDown !== undefined) {
      if (this.opsUntilDown <= 0) {
        this.down = true;
        throw fsError("ECRASHED", `${op} ${path}: disk lost power`);
      }
      this.opsUntilDown--;
    }
    const index = this.faults.findIndex((f) => f.op === op && (f.path === undefined || f.path === path));
    if (index >= 0) {
      const fault = this.faults[index]!;
      if ((fault.skipCalls ?? 0) > 0) {
        fault.skipCalls = (fault.skipCalls ?? 0) - 1;
        return undefined;
      }
      this.faults.splice(index, 1);
      if (op === "pwrite" && (fault.partialBytes ?? 0) > 0) return fault;
      throw fsError(fault.code ?? "EIO", `${op} ${path}: injected fault`);
    }
    return undefined;
  }

  /** pathOf returns the current name of an inode (handles follow renames), if it has one. */
  pathOf(file: MemFile): string | undefined {
    for (const [path, f] of this.names) if (f === file) return path;
    return undefined;
  }

  private pushDirOp(dir: string, op: DirOp): void {
    const ops = this.dirOps.get(dir) ?? [];
    ops.push(op);
    this.dirOps.set(dir, ops);
  }
}

function applyOp(data: Uint8Array, op: UnsyncedOp): Uint8Array {
  if (op.kind === "truncate") return resized(data, op.size);
  return writeInto(data.slice(), op.position, op.data);
}

function applyDirOp(names: Map<string, MemFile>, op: DirOp): void {
  switch (op.kind) {
    case "link":
      names.set(op.path, op.file);
      break;
    case "unlink":
      names.delete(op.path);
      break;
    case "rename":
      names.delete(op.from);
      names.set(op.to, op.file);
      break;
  }
}

/** MemFileHandle is an open file of a {@link MemWalFs}. */
class MemFileHandle implements WalFileHandle {
  private closed = false;

  constructor(
    private readonly fs: MemWalFs,
    private readonly file: MemFile,
    private readonly path: string,
    private readonly generation: number,
  ) {}

  async read(position: number, length: number): Promise<Uint8Array> {
    this.check("read", false);
    return this.file.data.slice(position, Math.min(position + length, this.file.data.length));
  }

  async pwrite(data: Uint8Array, position: number): Promise<void> {
    const fault = this.check("pwrite", true);
    if (fault) {
      // A short write: part of the data reaches the file, then the call fails.
      const part = data.slice(0, Math.min(fault.partialBytes ?? 0, data.length));
      this.file.data = writeInto(this.file.data, position, part);
      this.file.unsynced.push({ kind: "write", position, data: part });
      throw fsError(fault.code ?? "EIO", `pwrite ${this.path}: injected short write`);
    }
    const copy = data.slice();
    this.file.data = writeInto(this.file.data, position, copy);
    this.file.unsynced.push({ kind: "write", position, data: copy });
  }

  async fdatasync(): Promise<void> {
    this.check("fdatasync", true);
    this.file.durable = this.file.data.slice();
    this.file.unsynced = [];
  }

  async truncate(sizeBytes: number): Promise<void> {
    this.check("truncate", true);
    this.file.data = resized(this.file.data, sizeBytes);
    this.file.unsynced.push({ kind: "truncate", size: sizeBytes });
  }

  async size(): Promise<number> {
    this.check("read", false);
    return this.file.data.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(op: MemFsOp, mutating: boolean): MemFsFault | undefined {
    if (this.closed) throw fsError("EBADF", `${this.path}: closed`);
    return this.fs.enter(op, this.fs.pathOf(this.file) ?? this.path, mutating, this.generation);
  }
}
