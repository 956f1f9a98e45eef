/**
 * STM: software transactional memory over etcd, like etcd's `concurrency.NewSTM`. The function you pass reads
 * and writes through an {@link STM}; its writes are buffered and committed in one txn that only succeeds if
 * nothing it read changed meanwhile; otherwise the function runs again on fresh data.
 *
 * - "serializable" (default): every read is served at the revision of the first read (one consistent
 *   snapshot), and the commit checks that the keys read are unchanged since that revision.
 * - "repeatable-read": each key is read at the latest revision the first time and remembered; the commit
 *   checks that those keys are unchanged.
 */
import { type Bytes, bytesToString, toBytes } from "../bytes.js";
import type { EtcdClient } from "../client.js";
import type { CallSettings } from "../connection.js";
import { EtcdError } from "../errors.js";
import type { KeyValue } from "../key-value.js";
import { Cmp, type Compare, Op, type Operation, type TxnResult } from "../txn.js";

/** Isolation is the STM's isolation level. */
export type Isolation = "serializable" | "repeatable-read";

/** STM is the view a transaction function reads and writes through. */
export interface STM {
  /** get reads a key's value as a string (undefined when absent; buffered writes are visible). */
  get(key: Bytes): Promise<string | undefined>;
  /** getBytes reads a key's value as bytes. */
  getBytes(key: Bytes): Promise<Uint8Array | undefined>;
  /** modRevision is the key's last write revision as read (0n when absent). */
  modRevision(key: Bytes): Promise<bigint>;
  /** put buffers a write. */
  put(key: Bytes, value: Bytes, options?: { lease?: bigint }): void;
  /** delete buffers a delete. */
  delete(key: Bytes): void;
}

/** STMOptions configure {@link runSTM}. */
export interface STMOptions extends CallSettings {
  isolation?: Isolation;
  /** maxAttempts bounds the runs of the function (default 100). */
  maxAttempts?: number;
}

/** STMConflictError: the transaction kept conflicting for maxAttempts runs. */
export class STMConflictError extends EtcdError {
  constructor(attempts: number) {
    super(`etcd-ts client: STM gave up after ${attempts} conflicting attempts`);
  }
}

type Write = { kind: "put"; value: Uint8Array; lease: bigint } | { kind: "delete" };

const keyId = (key: Uint8Array): string => bytesToString(key);

class STMRun implements STM {
  readonly reads = new Map<string, { key: Uint8Array; kv: KeyValue | undefined }>();
  readonly writes = new Map<string, { key: Uint8Array; write: Write }>();
  /** snapshotRevision pins reads for serializable isolation (0n until the first read). */
  snapshotRevision = 0n;
  private readonly client: EtcdClient;
  private readonly isolation: Isolation;
  private readonly settings: CallSettings;

  constructor(client: EtcdClient, isolation: Isolation, settings: CallSettings) {
    this.client = client;
    this.isolation = isolation;
    this.settings = settings;
  }

  async getBytes(key: Bytes): Promise<Uint8Array | undefined> {
    const k = toBytes(key);
    const written = this.writes.get(keyId(k));
    if (written !== undefined) return written.write.kind === "put" ? written.write.value : undefined;
    return (await this.read(k))?.value;
  }

  async get(key: Bytes): Promise<string | undefined> {
    const value = await this.getBytes(key);
    return value === undefined ? undefined : bytesToString(value);
  }

  async modRevision(key: Bytes): Promise<bigint> {
    return (await this.read(toBytes(key)))?.modRevision ?? 0n;
  }

  put(key: Bytes, value: Bytes, options: { lease?: bigint } = {}): void {
    const k = toBytes(key);
    this.writes.set(keyId(k), {
      key: k,
      write: { kind: "put", value: toBytes(value), lease: options.lease ?? 0n },
    });
  }

  delete(key: Bytes): void {
    const k = toBytes(key);
    this.writes.set(keyId(k), { key: k, write: { kind: "delete" } });
  }

  private async read(key: Uint8Array): Promise<KeyValue | undefined> {
    const id = keyId(key);
    const cached = this.reads.get(id);
    if (cached !== undefined) return cached.kv;
    const pinned = this.isolation === "serializable" && this.snapshotRevision !== 0n;
    const result = await this.client.get(key, {
      ...this.settings,
      ...(pinned ? { revision: this.snapshotRevision } : {}),
    });
    if (this.isolation === "serializable" && this.snapshotRevision === 0n) {
      this.snapshotRevision = result.header.revision;
    }
    const kv = result.kvs[0];
    this.reads.set(id, { key, kv });
    return kv;
  }

  /** compares hold iff no key read has changed since it was read. */
  compares(): Compare[] {
    return [...this.reads.values()].map(({ key, kv }) => Cmp.modRevision(key, "==", kv?.modRevision ?? 0n));
  }

  operations(): Operation[] {
    return [...this.writes.values()].map(({ key, write }) =>
      write.kind === "put" ? Op.put(key, write.value, { lease: write.lease }) : Op.delete(key),
    );
  }
}

/**
 * runSTM runs `apply` in a transaction and commits its writes atomically, re-running it on conflicts. It
 * returns what `apply` returned in the run that committed, with the commit's result.
 */
export async function runSTM<T>(
  client: EtcdClient,
  apply: (stm: STM) => Promise<T>,
  options: STMOptions = {},
): Promise<{ value: T; result: TxnResult }> {
  const { isolation = "serializable", maxAttempts = 100, ...settings } = options;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const run = new STMRun(client, isolation, settings);
    const value = await apply(run);
    const result = await client
      .txn()
      .if(...run.compares())
      .onSuccess(...run.operations())
      .commit(settings);
    if (result.succeeded) return { value, result };
  }
  throw new STMConflictError(maxAttempts);
}
