import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SnapshotFileSchema } from "@etcd-ts/proto/internal/wal";
import { SnapshotMetadataSchema, SnapshotSchema } from "@etcd-ts/proto/raft";
import { assert } from "./assert.js";
import { crc32c } from "./crc32c.js";
import { SnapCrcMismatchError, SnapEmptySnapshotError, SnapNoSnapshotError } from "./errors.js";
import type { WalFs } from "./fs.js";
import { NodeWalFs } from "./node-fs.js";
import { confStateFromPb, confStateToPb } from "./record.js";
import type { SnapshotMetadata, WalSnapshot } from "./types.js";

/** RaftSnapshot is a raft snapshot: the application's state (opaque bytes) at a log position. */
export interface RaftSnapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** SnapshotterOptions configures a {@link Snapshotter}. */
export interface SnapshotterOptions {
  /** The file system (default: the real one). */
  fs?: WalFs;
}

const SUFFIX = ".snap";
const BROKEN_SUFFIX = ".broken";
const TEMP_SUFFIX = ".tmp";
const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

function hex16(value: number): string {
  return value.toString(16).padStart(16, "0");
}

/** snapshotFileName returns the file name of the snapshot at `term`/`index`: `<term>-<index>.snap` in hex. */
export function snapshotFileName(term: number, index: number): string {
  return `${hex16(term)}-${hex16(index)}${SUFFIX}`;
}

/**
 * Snapshotter keeps raft snapshot files in a directory (`member/snap`), one per snapshot, named
 * `<term>-<index>.snap` (16 hex digits each). A file holds an etcdts.internal.v1.SnapshotFile: the
 * CRC-32C of the encoded etcdts.raft.v1.Snapshot and the snapshot itself. Files are written to a temp file,
 * synced, renamed into place and the directory synced, so a crash never leaves a half-written snapshot
 * under its real name.
 */
export class Snapshotter {
  private readonly fs: WalFs;

  constructor(
    private readonly dir: string,
    options: SnapshotterOptions = {},
  ) {
    this.fs = options.fs ?? new NodeWalFs();
  }

  /** save writes `snapshot` durably. A snapshot at index 0 is empty and is not written (as in etcd). */
  async save(snapshot: RaftSnapshot): Promise<void> {
    const { index, term } = snapshot.metadata;
    assert(Number.isSafeInteger(index) && index >= 0, "snapshot index must be a safe integer");
    assert(Number.isSafeInteger(term) && term >= 0, "snapshot term must be a safe integer");
    if (index === 0) return;
    const body = toBinary(
      SnapshotSchema,
      create(SnapshotSchema, {
        data: snapshot.data,
        metadata: create(SnapshotMetadataSchema, {
          index: BigInt(index),
          term: BigInt(term),
          confState: confStateToPb(snapshot.metadata.confState),
        }),
      }),
    );
    const bytes = toBinary(SnapshotFileSchema, create(SnapshotFileSchema, { crc: crc32c(body), data: body }));
    await this.fs.mkdir(this.dir);
    const name = snapshotFileName(term, index);
    const temp = join(this.dir, `${name}${TEMP_SUFFIX}`);
    if ((await this.fs.readdir(this.dir)).includes(`${name}${TEMP_SUFFIX}`)) await this.fs.unlink(temp);
    const handle = await this.fs.open(temp, { create: true });
    try {
      await handle.pwrite(bytes, 0);
      await handle.fdatasync();
    } finally {
      await handle.close();
    }
    await this.fs.rename(temp, join(this.dir, name));
    await this.fs.fsyncDir(this.dir);
  }

  /** names returns the snapshot file names in the directory, newest (highest term, then index) first. */
  async names(): Promise<string[]> {
    return (await this.fs.readdir(this.dir))
      .filter((name) => NAME.test(name))
      .sort((a, b) => (a < b ? 1 : -1));
  }

  /**
   * read reads and checks one snapshot file. Throws SnapEmptySnapshotError or SnapCrcMismatchError when the
   * file is not a valid snapshot.
   */
  async read(name: string): Promise<RaftSnapshot> {
    const path = join(this.dir, name);
    const handle = await this.fs.open(path);
    let bytes: Uint8Array;
    try {
      bytes = await handle.read(0, await handle.size());
    } finally {
      await handle.close();
    }
    if (bytes.length === 0) throw new SnapEmptySnapshotError(path);
    let file: ReturnType<typeof fromBinary<typeof SnapshotFileSchema>>;
    try {
      file = fromBinary(SnapshotFileSchema, bytes);
    } catch {
      throw new SnapCrcMismatchError(path);
    }
    if (file.data.length === 0) throw new SnapEmptySnapshotError(path);
    if (crc32c(file.data) !== file.crc) throw new SnapCrcMismatchError(path);
    let snapshot: ReturnType<typeof fromBinary<typeof SnapshotSchema>>;
    try {
      snapshot = fromBinary(SnapshotSchema, file.data);
    } catch {
      throw new SnapCrcMismatchError(path);
    }
    const metadata = snapshot.metadata;
    if (!metadata) throw new SnapEmptySnapshotError(path);
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    if (metadata.index > max || metadata.term > max) throw new SnapCrcMismatchError(path);
    return {
      data: snapshot.data,
      metadata: {
        index: Number(metadata.index),
        term: Number(metadata.term),
        confState: confStateFromPb(metadata.confState),
      },
    };
  }

  /**
   * load returns the newest valid snapshot. A file that fails its checks is renamed to `<name>.broken`
   * (kept for inspection, never read again) and the next older one is tried; temp files left by an
   * interrupted save are removed. Throws SnapNoSnapshotError when none is valid.
   */
  async load(): Promise<RaftSnapshot> {
    return this.loadMatching(() => true);
  }

  /**
   * loadNewestAvailable returns the newest valid snapshot that the WAL has a marker for (see
   * `Wal.readSnapshotMarkers`), so the WAL can be opened at it. Throws SnapNoSnapshotError when none.
   */
  async loadNewestAvailable(markers: readonly WalSnapshot[]): Promise<RaftSnapshot> {
    const known = new Set(markers.map((marker) => `${marker.term}/${marker.index}`));
    return this.loadMatching((term, index) => known.has(`${term}/${index}`));
  }

  /** purge removes all but the newest `keep` snapshot files. */
  async purge(keep: number): Promise<string[]> {
    assert(Number.isSafeInteger(keep) && keep >= 1, "purge keeps at least one snapshot");
    const victims = (await this.names()).slice(keep);
    for (const name of victims) await this.fs.unlink(join(this.dir, name));
    if (victims.length > 0) await this.fs.fsyncDir(this.dir);
    return victims;
  }

  private async loadMatching(accept: (term: number, index: number) => boolean): Promise<RaftSnapshot> {
    // Temp files are saves a crash interrupted; they never became snapshots.
    const temps = (await this.fs.readdir(this.dir)).filter((name) =>
      name.endsWith(`${SUFFIX}${TEMP_SUFFIX}`),
    );
    for (const name of temps) await this.fs.unlink(join(this.dir, name));
    if (temps.length > 0) await this.fs.fsyncDir(this.dir);
    for (const name of await this.names()) {
      const match = NAME.exec(name)!;
      const term = Number.parseInt(match[1]!, 16);
      const index = Number.parseInt(match[2]!, 16);
      if (!accept(term, index)) continue;
      try {
        const snapshot = await this.read(name);
        if (snapshot.metadata.term !== term || snapshot.metadata.index !== index) {
          throw new SnapCrcMismatchError(join(this.dir, name));
        }
        return snapshot;
      } catch (error) {
        if (!(error instanceof SnapCrcMismatchError || error instanceof SnapEmptySnapshotError)) throw error;
        const path = join(this.dir, name);
        await this.fs.rename(path, `${path}${BROKEN_SUFFIX}`);
        await this.fs.fsyncDir(this.dir);
      }
    }
    throw new SnapNoSnapshotError();
  }
}
