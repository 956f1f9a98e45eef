import { assert } from "../assert.js";
import type { EtcdRequest, EtcdResponse, KeyValue, TxnOp, TxnResult } from "./etcd-types.js";
import { keyInRange } from "./etcd-types.js";

/**
 * ReferenceEtcd is a plain sequential etcd (one process, no concurrency, exact global revision), used to
 * generate histories that are linearizable by construction for the checker's own tests. It is the
 * "dumb reference": a map of keys with full history, nothing clever.
 */
export class ReferenceEtcd {
  revision = 0;
  readonly #current = new Map<string, KeyValue>();
  /** history holds every version (or tombstone) of every key with the revision it was written at. */
  readonly #history: Array<{ key: string; revision: number; kv: KeyValue | undefined }> = [];
  readonly #leases = new Set<number>();
  #nextLease = 1000;

  /** liveLeases lists the leases granted and not revoked. */
  liveLeases(): number[] {
    return [...this.#leases];
  }

  /** get is the live version of a key. */
  get(key: string): KeyValue | undefined {
    return this.#current.get(key);
  }

  /** apply runs one request and returns etcd's answer. */
  apply(request: EtcdRequest): EtcdResponse {
    switch (request.type) {
      case "range":
        return {
          type: "range",
          revision: this.revision,
          kvs: this.#range(request.key, request.end, request.revision),
        };
      case "put": {
        if (request.lease !== undefined && request.lease !== 0 && !this.#leases.has(request.lease)) {
          return { type: "error", error: "lease not found" };
        }
        this.revision++;
        this.#put(request.key, request.value, request.lease ?? 0);
        return { type: "put", revision: this.revision };
      }
      case "delete": {
        const existed = this.#current.has(request.key);
        if (existed) {
          this.revision++;
          this.#delete(request.key);
        }
        return { type: "delete", revision: this.revision, deleted: existed ? 1 : 0 };
      }
      case "txn": {
        const succeeded = request.compare.every((cmp) => {
          const kv = this.#current.get(cmp.key);
          if (cmp.target === "value" && kv === undefined) return false;
          const actual =
            cmp.target === "value"
              ? (kv?.value ?? "")
              : cmp.target === "mod"
                ? (kv?.modRevision ?? 0)
                : cmp.target === "create"
                  ? (kv?.createRevision ?? 0)
                  : cmp.target === "version"
                    ? (kv?.version ?? 0)
                    : (kv?.lease ?? 0);
          switch (cmp.result) {
            case "=":
              return actual === cmp.value;
            case "!=":
              return actual !== cmp.value;
            case "<":
              return actual < cmp.value;
            case ">":
              return actual > cmp.value;
          }
          return false;
        });
        const ops = succeeded ? request.success : request.failure;
        for (const op of ops) {
          if (op.type === "put" && op.lease !== undefined && op.lease !== 0 && !this.#leases.has(op.lease)) {
            return { type: "error", error: "lease not found" };
          }
        }
        const writes = ops.some(
          (op) => op.type === "put" || (op.type === "delete" && this.#current.has(op.key)),
        );
        if (writes) this.revision++;
        const results: TxnResult[] = ops.map((op) => this.#txnOp(op));
        return { type: "txn", revision: this.revision, succeeded, results };
      }
      case "leaseGrant": {
        const lease = this.#nextLease++;
        this.#leases.add(lease);
        return { type: "leaseGrant", revision: this.revision, lease };
      }
      case "leaseRevoke": {
        if (!this.#leases.has(request.lease)) return { type: "error", error: "lease not found" };
        this.#leases.delete(request.lease);
        const attached = [...this.#current.values()].filter((kv) => kv.lease === request.lease);
        if (attached.length > 0) {
          this.revision++;
          for (const kv of attached) this.#delete(kv.key);
        }
        return { type: "leaseRevoke", revision: this.revision };
      }
    }
  }

  #txnOp(op: TxnOp): TxnResult {
    switch (op.type) {
      case "range":
        return { type: "range", kvs: this.#range(op.key, op.end, undefined) };
      case "put":
        this.#put(op.key, op.value, op.lease ?? 0);
        return { type: "put" };
      case "delete": {
        const existed = this.#current.has(op.key);
        if (existed) this.#delete(op.key);
        return { type: "delete", deleted: existed ? 1 : 0 };
      }
    }
  }

  #put(key: string, value: string, lease: number): void {
    const old = this.#current.get(key);
    const kv: KeyValue = {
      key,
      value,
      modRevision: this.revision,
      createRevision: old?.createRevision ?? this.revision,
      version: (old?.version ?? 0) + 1,
      lease,
    };
    this.#current.set(key, kv);
    this.#history.push({ key, revision: this.revision, kv });
  }

  #delete(key: string): void {
    this.#current.delete(key);
    this.#history.push({ key, revision: this.revision, kv: undefined });
  }

  #range(key: string, end: string | undefined, revision: number | undefined): KeyValue[] {
    if (revision === undefined || revision === 0) {
      return [...this.#current.values()]
        .filter((kv) => keyInRange(kv.key, key, end))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
    }
    assert(revision <= this.revision, "future revision");
    const at = new Map<string, KeyValue | undefined>();
    for (const entry of this.#history) {
      if (entry.revision > revision) break;
      if (keyInRange(entry.key, key, end)) at.set(entry.key, entry.kv);
    }
    return [...at.values()]
      .filter((kv): kv is KeyValue => kv !== undefined)
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}
