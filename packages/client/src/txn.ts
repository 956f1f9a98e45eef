/**
 * Transactions: `Cmp` builds compares, `Op` builds operations, and `Txn` is the fluent builder
 * (`if(...).onSuccess(...).onFailure(...).commit()`). Txns nest through `Op.txn`.
 *
 * The builder deliberately has no `then` method: an object with `then` is a thenable, and `await`ing or
 * returning it from an async function would silently swallow it.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type CompareSchema,
  type RequestOpSchema,
  type TxnRequestSchema,
  type TxnResponse,
} from "@etcd-ts/proto/etcdserverpb";
import { assert } from "./assert.js";
import { type Bytes, toBytes } from "./bytes.js";
import type { CallSettings } from "./connection.js";
import { type ResponseHeader, toHeader } from "./key-value.js";
import {
  type DeleteOptions,
  type DeleteResult,
  deleteRequest,
  type KeyRange,
  type PutOptions,
  type PutResult,
  putRequest,
  type RangeOptions,
  type RangeResult,
  type RevisionLike,
  rangeEndOf,
  rangeRequest,
  toDeleteResult,
  toPutResult,
  toRangeResult,
  toRevision,
} from "./kv.js";

/** CompareOp is the relation a compare checks: the key's field `op` the given operand. */
export type CompareOp = "==" | "!=" | "<" | ">";

/** Compare is one condition of a txn, built with {@link Cmp}. */
export interface Compare {
  /** message is the wire form. */
  readonly message: MessageInitShape<typeof CompareSchema>;
}

const results: Record<CompareOp, Compare_CompareResult> = {
  "==": Compare_CompareResult.EQUAL,
  "!=": Compare_CompareResult.NOT_EQUAL,
  "<": Compare_CompareResult.LESS,
  ">": Compare_CompareResult.GREATER,
};

function compare(
  key: Bytes,
  op: CompareOp,
  target: Compare_CompareTarget,
  union: MessageInitShape<typeof CompareSchema>["targetUnion"],
  range: KeyRange | undefined,
): Compare {
  const k = toBytes(key);
  return {
    message: {
      key: k,
      result: results[op],
      target,
      targetUnion: union,
      rangeEnd: range === undefined ? new Uint8Array() : rangeEndOf(k, range),
    },
  };
}

/**
 * Cmp builds txn compares. Each takes an optional range (end / prefix / fromKey): the compare then must hold
 * for every key in it. On a missing key a value compare is false and the others compare against 0.
 */
export const Cmp = {
  /** value compares the key's value. */
  value(key: Bytes, op: CompareOp, value: Bytes, range?: KeyRange): Compare {
    return compare(key, op, Compare_CompareTarget.VALUE, { case: "value", value: toBytes(value) }, range);
  },
  /** version compares the key's version (0: the key does not exist). */
  version(key: Bytes, op: CompareOp, version: RevisionLike, range?: KeyRange): Compare {
    return compare(
      key,
      op,
      Compare_CompareTarget.VERSION,
      { case: "version", value: toRevision(version) },
      range,
    );
  },
  /** createRevision compares the revision that created the key. */
  createRevision(key: Bytes, op: CompareOp, revision: RevisionLike, range?: KeyRange): Compare {
    return compare(
      key,
      op,
      Compare_CompareTarget.CREATE,
      { case: "createRevision", value: toRevision(revision) },
      range,
    );
  },
  /** modRevision compares the revision of the key's last write. */
  modRevision(key: Bytes, op: CompareOp, revision: RevisionLike, range?: KeyRange): Compare {
    return compare(
      key,
      op,
      Compare_CompareTarget.MOD,
      { case: "modRevision", value: toRevision(revision) },
      range,
    );
  },
  /** lease compares the ID of the key's lease (0n: none). */
  lease(key: Bytes, op: CompareOp, leaseId: bigint, range?: KeyRange): Compare {
    return compare(key, op, Compare_CompareTarget.LEASE, { case: "lease", value: leaseId }, range);
  },
};

/** Operation is one step of a txn branch, built with {@link Op}. */
export interface Operation {
  readonly kind: "get" | "put" | "delete" | "txn";
  /** message is the wire form. */
  readonly message: MessageInitShape<typeof RequestOpSchema>;
  /** writes is true when the operation (or a nested one) changes the store. */
  readonly writes: boolean;
}

/** Op builds txn operations. */
export const Op = {
  /** get reads a key or range. */
  get(key: Bytes, options?: RangeOptions): Operation {
    return {
      kind: "get",
      writes: false,
      message: { request: { case: "requestRange", value: rangeRequest(key, options) } },
    };
  },
  /** put writes a key. */
  put(key: Bytes, value: Bytes, options?: PutOptions): Operation {
    return {
      kind: "put",
      writes: true,
      message: { request: { case: "requestPut", value: putRequest(key, value, options) } },
    };
  },
  /** delete deletes a key or range. */
  delete(key: Bytes, options?: DeleteOptions): Operation {
    return {
      kind: "delete",
      writes: true,
      message: { request: { case: "requestDeleteRange", value: deleteRequest(key, options) } },
    };
  },
  /** txn nests a transaction (built with `new Txn()`). */
  txn(txn: Txn): Operation {
    return {
      kind: "txn",
      writes: txn.writes,
      message: { request: { case: "requestTxn", value: txn.toRequest() } },
    };
  },
};

/** OpResult is the result of one txn operation, tagged by its kind. */
export type OpResult =
  | { kind: "get"; result: RangeResult }
  | { kind: "put"; result: PutResult }
  | { kind: "delete"; result: DeleteResult }
  | { kind: "txn"; result: TxnResult };

/** TxnResult is the answer to a txn. */
export interface TxnResult {
  header: ResponseHeader;
  /** succeeded is true when every compare held (the success branch ran). */
  succeeded: boolean;
  /** results of the branch that ran, in order. */
  results: OpResult[];
}

/** toTxnResult converts a TxnResponse. */
export function toTxnResult(response: TxnResponse): TxnResult {
  return {
    header: toHeader(response.header),
    succeeded: response.succeeded,
    results: response.responses.map((op): OpResult => {
      const r = op.response;
      switch (r.case) {
        case "responseRange":
          return { kind: "get", result: toRangeResult(r.value) };
        case "responsePut":
          return { kind: "put", result: toPutResult(r.value) };
        case "responseDeleteRange":
          return { kind: "delete", result: toDeleteResult(r.value) };
        case "responseTxn":
          return { kind: "txn", result: toTxnResult(r.value) };
      }
      throw new Error("etcd-ts client: txn response without a result");
    }),
  };
}

/** TxnRunner sends a txn; the client provides it. */
export type TxnRunner = (txn: Txn, settings?: CallSettings) => Promise<TxnResult>;

/**
 * Txn is the fluent transaction builder. `client.txn()` returns one that can `commit()`; `new Txn()` builds a
 * txn to nest with `Op.txn`.
 */
export class Txn {
  private readonly compares: Compare[] = [];
  private readonly success: Operation[] = [];
  private readonly failure: Operation[] = [];
  private readonly runner: TxnRunner | undefined;
  private committed = false;

  constructor(runner?: TxnRunner) {
    this.runner = runner;
  }

  /** if adds compares; all must hold for the success branch to run. */
  if(...compares: Compare[]): this {
    this.compares.push(...compares);
    return this;
  }

  /** onSuccess adds operations run when every compare holds. */
  onSuccess(...ops: Operation[]): this {
    this.success.push(...ops);
    return this;
  }

  /** onFailure adds operations run otherwise. */
  onFailure(...ops: Operation[]): this {
    this.failure.push(...ops);
    return this;
  }

  /** writes is true when either branch changes the store (such a txn is never retried after it was sent). */
  get writes(): boolean {
    return this.success.some((op) => op.writes) || this.failure.some((op) => op.writes);
  }

  /** toRequest is the wire form. */
  toRequest(): MessageInitShape<typeof TxnRequestSchema> {
    return {
      compare: this.compares.map((c) => c.message),
      success: this.success.map((op) => op.message),
      failure: this.failure.map((op) => op.message),
    };
  }

  /** commit sends the txn (once). */
  commit(settings?: CallSettings): Promise<TxnResult> {
    assert(this.runner !== undefined, "commit() needs a txn from client.txn(); use Op.txn() to nest");
    assert(!this.committed, "a txn is committed once");
    this.committed = true;
    return this.runner(this, settings);
  }
}
