import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  DeleteRangeRequestSchema,
  type DeleteRangeResponse,
  PutRequestSchema,
  type PutResponse,
  RangeRequestSchema,
  type RangeResponse,
  TxnRequestSchema,
  type TxnResponse,
} from "@etcd-ts/proto/etcdserverpb";
import type { KvStore } from "../kv-store.js";
import { WatchableStore, type WatchableStoreOptions } from "../watchable-store.js";
import { TempLevel } from "./temp-level.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** b turns a string into key/value bytes. */
export function b(text: string): Uint8Array {
  return encoder.encode(text);
}

/** s turns bytes into a string. */
export function s(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

type StoreOptions = Omit<WatchableStoreOptions, "backend">;

/** StoreHarness drives a KvStore over a real temp classic-level database the way the server does. */
export class StoreHarness {
  private constructor(
    readonly level: TempLevel,
    public watchable: WatchableStore,
    private readonly options: StoreOptions,
  ) {}

  /** store is the KvStore under the watch hub. */
  get store(): KvStore {
    return this.watchable.kv;
  }

  static async create(options: StoreOptions = {}): Promise<StoreHarness> {
    const level = new TempLevel();
    await level.open();
    const store = await WatchableStore.open({ ...options, backend: level.backend });
    return new StoreHarness(level, store, options);
  }

  async put(
    key: string,
    value: string,
    init: { lease?: bigint; prevKv?: boolean; ignoreValue?: boolean; ignoreLease?: boolean } = {},
  ): Promise<PutResponse> {
    const request = create(PutRequestSchema, { ...init, key: b(key), value: b(value) });
    const write = await this.level.apply((batch) => this.store.put(request, batch));
    this.store.commit(write);
    return write.response;
  }

  async del(key: string, rangeEnd?: string | Uint8Array, prevKv = false): Promise<DeleteRangeResponse> {
    const end = typeof rangeEnd === "string" ? b(rangeEnd) : (rangeEnd ?? new Uint8Array(0));
    const request = create(DeleteRangeRequestSchema, { key: b(key), rangeEnd: end, prevKv });
    const write = await this.level.apply((batch) => this.store.deleteRange(request, batch));
    this.store.commit(write);
    return write.response;
  }

  async txn(init: MessageInitShape<typeof TxnRequestSchema>): Promise<TxnResponse> {
    const request = create(TxnRequestSchema, init);
    const write = await this.level.apply((batch) => this.store.txn(request, batch));
    this.store.commit(write);
    return write.response;
  }

  range(init: MessageInitShape<typeof RangeRequestSchema>): Promise<RangeResponse> {
    return this.store.range(create(RangeRequestSchema, init));
  }

  async get(key: string, revision = 0n): Promise<string | undefined> {
    const response = await this.range({ key: b(key), revision });
    const kv = response.kvs[0];
    return kv === undefined ? undefined : s(kv.value);
  }

  async compact(revision: bigint): Promise<void> {
    const pending = await this.level.apply((batch) => this.store.compact(revision, batch));
    await this.store.commitCompaction(pending);
  }

  async reopen(): Promise<void> {
    await this.watchable.close();
    await this.level.reopen();
    this.watchable = await WatchableStore.open({ ...this.options, backend: this.level.backend });
  }

  async destroy(): Promise<void> {
    await this.watchable.close();
    await this.level.destroy();
  }
}
