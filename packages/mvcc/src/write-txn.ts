import { create } from "@bufbuild/protobuf";
import {
  type Compare,
  Compare_CompareTarget,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  DeleteRangeResponseSchema,
  type PutRequest,
  type PutResponse,
  PutResponseSchema,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  ResponseHeaderSchema,
  type ResponseOp,
  ResponseOpSchema,
  type TxnRequest,
  type TxnResponse,
  TxnResponseSchema,
} from "@etcd-ts/proto/etcdserverpb";
import type { KeyValue } from "@etcd-ts/proto/mvccpb";
import { assert } from "./assert.js";
import type { BackendBatch, BackendSnapshot } from "./backend.js";
import { type ComparedKey, compareHolds, MISSING_KEY } from "./compare.js";
import { ErrCompacted, ErrFutureRevision, ErrKeyNotFound, ErrLeaseNotFound } from "./errors.js";
import { type KeyRange, keyFromString, keyToString, rangeContains, toKeyRange } from "./key-range.js";
import { decodeKeyValue, encodeKeyValue } from "./key-value-codec.js";
import { executeRange } from "./range-request.js";
import { encodeRevisionKey, type Revision } from "./revision.js";
import type { IndexedKey, TreeIndex } from "./tree-index.js";

/**
 * Change is one modification made by a write txn, in sub-revision order. For a deletion `kv` holds only the
 * key and the deletion revision (what a DELETE watch event carries).
 */
export interface Change {
  /** key as a binary (latin1) string. */
  readonly key: string;
  readonly revision: Revision;
  readonly deleted: boolean;
  readonly kv: KeyValue;
  /** prevKv is the value before this change: null when the key did not exist, undefined when it was not read. */
  readonly prevKv: KeyValue | null | undefined;
  /** prevLease is the lease of the key before this change (0n when none or missing). */
  readonly prevLease: bigint;
}

/** TxnEnvironment is what a write txn reads from and writes to; the store builds it for each txn. */
export interface TxnEnvironment {
  readonly index: TreeIndex;
  /** snapshot opens (once, on first use) a read view of the backend consistent with the index. */
  snapshot(): BackendSnapshot;
  /** cached answers committed revisions' values from memory (optional). */
  readonly cached?: CachedValues;
  readonly batch: BackendBatch;
  /** beginMain is the store revision when the txn started; its changes get beginMain + 1. */
  readonly beginMain: number;
  readonly compactMain: number;
  readonly leaseExists: ((lease: bigint) => boolean) | undefined;
  /** wantPrevKv tells whether some watcher will need the previous value of a changed key. */
  readonly wantPrevKv: (key: string) => boolean;
  /**
   * beforeRead runs before every index lookup; a read-only txn that runs beside the apply loop uses it to fail
   * with ErrCompacted once a compaction has passed the revision it reads at.
   */
  readonly beforeRead?: (atMain: number) => void;
}

/** TxnPath is the outcome of a txn's compares and, for each nested txn of the chosen branch, its own path. */
interface TxnPath {
  readonly succeeded: boolean;
  readonly nested: TxnPath[];
}

/** CachedValues answers a revision's value from memory when it can (see RecentValues). */
export interface CachedValues {
  get(revision: Revision): KeyValue | undefined;
}

/** ValueReader is what readKeyValues reads missing values through: a snapshot, or the backend's getManyNow. */
export type ValueReader = Pick<BackendSnapshot, "getMany">;

/**
 * readKeyValues fetches the stored values of resolved keys, from `cached` where it has them and through
 * `reader` for the rest (one getMany, issued before the first await, so a reader that takes an implicit
 * snapshot takes it in the caller's tick), asserting they exist. A function `reader` is called only when
 * some value is missing from the cache.
 */
export async function readKeyValues(
  reader: ValueReader | (() => ValueReader),
  keys: readonly IndexedKey[],
  cached?: CachedValues,
): Promise<KeyValue[]> {
  if (keys.length === 0) return [];
  const found = keys.map((k) => cached?.get(k.modified));
  const missing = keys.filter((_, i) => found[i] === undefined);
  if (missing.length === 0) return found as KeyValue[];
  const view = typeof reader === "function" ? reader() : reader;
  const values = await view.getMany(missing.map((k) => encodeRevisionKey(k.modified)));
  let next = 0;
  return found.map((kv) => {
    if (kv !== undefined) return kv;
    const value = values[next];
    const key = missing[next++];
    assert(value !== undefined, `revision ${key?.modified.main}.${key?.modified.sub} missing from backend`);
    return decodeKeyValue(value);
  });
}

/**
 * WriteTxn runs the ops of one write request at one new revision: every change is written to the caller's
 * batch at (main, sub++) and remembered in an overlay so that later ops of the same txn see earlier ones,
 * while the shared index stays untouched until the store commits the txn after the batch is durable.
 */
export class WriteTxn {
  /** main is the revision all changes of this txn get. */
  readonly main: number;
  /** changes lists the modifications in order. */
  readonly changes: Change[] = [];
  private sub = 0;
  private readonly overlay = new Map<string, KeyValue | null>();
  /** txnHeader is the outermost txn response's header, which `finish` stamps (none for a lone op). */
  private txnHeader: ResponseHeader | undefined;

  constructor(private readonly env: TxnEnvironment) {
    this.main = env.beginMain + 1;
  }

  /** revision is the store revision after this txn: main when it changed something, else beginMain. */
  get revision(): number {
    return this.changes.length > 0 ? this.main : this.env.beginMain;
  }

  /** finish stamps the txn's own response header with the resulting revision. */
  finish(): void {
    if (this.txnHeader !== undefined) this.txnHeader.revision = BigInt(this.revision);
  }

  /**
   * opHeader is the header of one op's response, as etcd fills it: the store revision as the op sees it,
   * i.e. the revision before the txn until the txn has changed something (a range or an empty delete that
   * runs before any write of the same txn reports the revision it read at).
   */
  private opHeader(): ResponseHeader {
    return create(ResponseHeaderSchema, { revision: BigInt(this.revision) });
  }

  private nextRevision(): Revision {
    const revision = { main: this.main, sub: this.sub };
    this.sub += 1;
    return revision;
  }

  /** latestInfo describes a key as of now inside the txn, undefined when it does not exist. */
  private latestInfo(key: string): IndexedKey | undefined {
    if (this.overlay.has(key)) {
      const kv = this.overlay.get(key);
      if (kv === null || kv === undefined) return undefined;
      return {
        key,
        modified: { main: this.main, sub: 0 },
        created: Number(kv.createRevision),
        version: Number(kv.version),
      };
    }
    const index = this.env.index.get(key);
    if (index === undefined) return undefined;
    const info = index.get(this.env.beginMain);
    return info === undefined ? undefined : { key, ...info };
  }

  private latestLease(key: string): bigint {
    if (this.overlay.has(key)) return this.overlay.get(key)?.lease ?? 0n;
    const index = this.env.index.get(key);
    return index?.isLive() ? index.lease : 0n;
  }

  /** fetch reads values of keys resolved as of now: overlay values from memory, the rest from the snapshot. */
  private async fetch(keys: readonly IndexedKey[]): Promise<KeyValue[]> {
    const stored = keys.filter((k) => k.modified.main !== this.main);
    const values =
      stored.length > 0 ? await readKeyValues(() => this.env.snapshot(), stored, this.env.cached) : [];
    let next = 0;
    return keys.map((k) => {
      if (k.modified.main === this.main) {
        const kv = this.overlay.get(k.key);
        assert(kv !== undefined && kv !== null, "overlay key without value");
        return kv;
      }
      const kv = values[next++];
      assert(kv !== undefined, "fetched value missing");
      return kv;
    });
  }

  /** resolveLatest lists the keys in range as of now inside the txn, in key order. */
  private resolveLatest(range: KeyRange): IndexedKey[] {
    this.env.beforeRead?.(this.env.beginMain);
    const stored = this.env.index.range(range, this.env.beginMain).filter((k) => !this.overlay.has(k.key));
    if (this.overlay.size === 0) return stored;
    const pending: IndexedKey[] = [];
    for (const [key, kv] of this.overlay) {
      if (kv === null || !rangeContains(range, key)) continue;
      pending.push({
        key,
        modified: { main: this.main, sub: 0 },
        created: Number(kv.createRevision),
        version: Number(kv.version),
      });
    }
    if (pending.length === 0) return stored;
    return [...stored, ...pending].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** decide evaluates the compares of a txn and of the nested txns on its chosen branch, before any op runs. */
  async decide(request: TxnRequest): Promise<TxnPath> {
    let succeeded = true;
    for (const compare of request.compare) {
      if (!(await this.compareHolds(compare))) {
        succeeded = false;
        break;
      }
    }
    const nested: TxnPath[] = [];
    for (const op of succeeded ? request.success : request.failure) {
      if (op.request.case === "requestTxn") nested.push(await this.decide(op.request.value));
    }
    return { succeeded, nested };
  }

  private async compareHolds(compare: Compare): Promise<boolean> {
    this.env.beforeRead?.(this.env.beginMain);
    const keys = this.env.index.range(toKeyRange(compare.key, compare.rangeEnd), this.env.beginMain);
    if (keys.length === 0) {
      return compare.target !== Compare_CompareTarget.VALUE && compareHolds(compare, MISSING_KEY);
    }
    // Value and lease come from the stored KeyValue (the index knows only the latest lease); the rest is in
    // the index.
    const needStored =
      compare.target === Compare_CompareTarget.VALUE || compare.target === Compare_CompareTarget.LEASE;
    const values = needStored
      ? await readKeyValues(() => this.env.snapshot(), keys, this.env.cached)
      : undefined;
    return keys.every((k, i) => {
      const compared: ComparedKey = values?.[i] ?? {
        createRevision: BigInt(k.created),
        modRevision: BigInt(k.modified.main),
        version: BigInt(k.version),
        lease: 0n,
        value: new Uint8Array(0),
      };
      return compareHolds(compare, compared);
    });
  }

  /** check validates the ops of the chosen path against the state before the txn, before any op runs. */
  check(request: TxnRequest, path: TxnPath): void {
    let nested = 0;
    for (const op of path.succeeded ? request.success : request.failure) {
      this.checkOp(op, path.nested, nested);
      if (op.request.case === "requestTxn") nested++;
    }
  }

  private checkOp(op: RequestOp, nestedPaths: readonly TxnPath[], nested: number): void {
    switch (op.request.case) {
      case "requestRange": {
        const revision = op.request.value.revision;
        if (revision > BigInt(this.env.beginMain)) throw new ErrFutureRevision();
        if (revision > 0n && revision < BigInt(this.env.compactMain)) throw new ErrCompacted();
        break;
      }
      case "requestPut":
        this.checkPut(op.request.value);
        break;
      case "requestTxn": {
        const path = nestedPaths[nested];
        assert(path !== undefined, "nested txn without decided path");
        this.check(op.request.value, path);
        break;
      }
      case "requestDeleteRange":
      case undefined:
        break;
    }
  }

  /** checkPut validates a put against the state before the txn: ignore flags need the key, leases must exist. */
  checkPut(put: PutRequest): void {
    if (put.ignoreValue || put.ignoreLease) {
      const index = this.env.index.get(keyToString(put.key));
      if (index === undefined || !index.isLive()) throw new ErrKeyNotFound();
    }
    if (!put.ignoreLease && put.lease !== 0n && this.env.leaseExists !== undefined) {
      if (!this.env.leaseExists(put.lease)) throw new ErrLeaseNotFound();
    }
  }

  /** runTxn executes the chosen branch of a txn (already decided and checked) and builds its response. */
  async runTxn(request: TxnRequest, path: TxnPath, inner = false): Promise<TxnResponse> {
    // A nested txn's response carries an empty header (as etcd's): only the outermost one is stamped.
    const header = create(ResponseHeaderSchema);
    if (!inner) this.txnHeader = header;
    const response = create(TxnResponseSchema, { header, succeeded: path.succeeded });
    let nested = 0;
    for (const op of path.succeeded ? request.success : request.failure) {
      const responseOp = create(ResponseOpSchema);
      switch (op.request.case) {
        case "requestRange":
          responseOp.response = { case: "responseRange", value: await this.range(op.request.value) };
          break;
        case "requestPut":
          responseOp.response = { case: "responsePut", value: await this.put(op.request.value) };
          break;
        case "requestDeleteRange":
          responseOp.response = {
            case: "responseDeleteRange",
            value: await this.deleteRange(op.request.value),
          };
          break;
        case "requestTxn": {
          const nestedPath = path.nested[nested++];
          assert(nestedPath !== undefined, "nested txn without decided path");
          responseOp.response = {
            case: "responseTxn",
            value: await this.runTxn(op.request.value, nestedPath, true),
          };
          break;
        }
        case undefined:
          break;
      }
      response.responses.push(responseOp as ResponseOp);
    }
    return response;
  }

  /** range reads inside the txn: the latest state includes the txn's own earlier changes. */
  async range(request: RangeRequest): Promise<RangeResponse> {
    const range = toKeyRange(request.key, request.rangeEnd);
    const revision = request.revision;
    let response: RangeResponse;
    // An explicit revision up to the one the txn started at reads committed history, without the txn's own
    // changes (they are at beginMain + 1).
    if (revision > 0n && revision <= BigInt(this.env.beginMain)) {
      this.env.beforeRead?.(Number(revision));
      const keys = this.env.index.range(range, Number(revision));
      response = await executeRange(
        request,
        keys,
        (k) => readKeyValues(() => this.env.snapshot(), k, this.env.cached),
        0n,
      );
    } else {
      response = await executeRange(request, this.resolveLatest(range), (k) => this.fetch(k), 0n);
    }
    response.header = this.opHeader();
    return response;
  }

  /** put writes a new value of a key (ignore flags already validated). */
  async put(request: PutRequest): Promise<PutResponse> {
    const key = keyToString(request.key);
    const info = this.latestInfo(key);
    const prevLease = this.latestLease(key);
    const needPrev = request.prevKv || request.ignoreValue || this.env.wantPrevKv(key);
    let prevKv: KeyValue | null | undefined = info === undefined ? null : undefined;
    if (info !== undefined && needPrev) {
      const [kv] = await this.fetch([info]);
      prevKv = kv;
    }
    if (request.ignoreValue) assert(prevKv, "ignore_value on a missing key passed the check");
    const revision = this.nextRevision();
    const kv: KeyValue = {
      $typeName: "mvccpb.KeyValue",
      key: request.key,
      createRevision: info === undefined ? BigInt(revision.main) : BigInt(info.created),
      modRevision: BigInt(revision.main),
      version: info === undefined ? 1n : BigInt(info.version + 1),
      value: request.ignoreValue ? (prevKv?.value ?? new Uint8Array(0)) : request.value,
      lease: request.ignoreLease ? prevLease : request.lease,
    };
    this.env.batch.put(encodeRevisionKey(revision), encodeKeyValue(kv));
    this.overlay.set(key, kv);
    this.changes.push({ key, revision, deleted: false, kv, prevKv, prevLease });
    const response = create(PutResponseSchema, { header: this.opHeader() });
    if (request.prevKv && prevKv) response.prevKv = prevKv;
    return response;
  }

  /** deleteRange deletes every live key in range; deleting nothing changes nothing. */
  async deleteRange(request: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.deleteKeys(this.resolveLatest(toKeyRange(request.key, request.rangeEnd)), request.prevKv);
  }

  /** deleteKeys deletes the given live keys (resolved as of now), in order. */
  async deleteKeys(keys: readonly IndexedKey[], withPrevKvs: boolean): Promise<DeleteRangeResponse> {
    const needPrev = withPrevKvs || keys.some((k) => this.env.wantPrevKv(k.key));
    const prevKvs = needPrev ? await this.fetch(keys) : undefined;
    keys.forEach((k, i) => {
      const revision = this.nextRevision();
      const kv: KeyValue = {
        $typeName: "mvccpb.KeyValue",
        key: keyFromString(k.key),
        createRevision: 0n,
        modRevision: BigInt(revision.main),
        version: 0n,
        value: new Uint8Array(0),
        lease: 0n,
      };
      this.env.batch.put(encodeRevisionKey(revision, true), encodeKeyValue(kv));
      const prevLease = this.latestLease(k.key);
      this.overlay.set(k.key, null);
      this.changes.push({ key: k.key, revision, deleted: true, kv, prevKv: prevKvs?.[i], prevLease });
    });
    const response = create(DeleteRangeResponseSchema, {
      header: this.opHeader(),
      deleted: BigInt(keys.length),
    });
    if (withPrevKvs && prevKvs !== undefined) response.prevKvs = prevKvs;
    return response;
  }

  /** resolveKeys lists which of the given keys are live now inside the txn, in key order. */
  resolveKeys(keys: readonly Uint8Array[]): IndexedKey[] {
    const out: IndexedKey[] = [];
    const seen = new Set<string>();
    for (const bytes of keys) {
      const key = keyToString(bytes);
      if (seen.has(key)) continue;
      seen.add(key);
      const info = this.latestInfo(key);
      if (info !== undefined) out.push(info);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
