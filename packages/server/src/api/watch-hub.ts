import { create } from "@bufbuild/protobuf";
import type { WatchableStore, WatchStream } from "@etcd-ts/mvcc";
import { prefixEnd } from "@etcd-ts/mvcc";
import { WatchCreateRequest_FilterType, WatchCreateRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { Event_EventType } from "@etcd-ts/proto/mvccpb";
import type { KeyWaiter } from "./concurrency.js";
import type { KeyObserver } from "./election-service.js";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * WatchHub gives the server's own services (lock, election) watches on the mvcc store: wait for a key's
 * deletion, or observe changes under a prefix. Each wait uses its own watch stream, closed when done.
 */
export class WatchHub implements KeyWaiter, KeyObserver {
  readonly store: WatchableStore;
  readonly #open = new Set<WatchStream>();

  constructor(store: WatchableStore) {
    this.store = store;
  }

  #stream(signal: AbortSignal): WatchStream {
    const stream = this.store.newWatchStream();
    this.#open.add(stream);
    const onAbort = () => this.#closeStream(stream);
    signal.addEventListener("abort", onAbort, { once: true });
    return stream;
  }

  #closeStream(stream: WatchStream): void {
    if (!this.#open.delete(stream)) return;
    this.store.closeWatchStream(stream);
  }

  async waitDeleted(key: Uint8Array, fromRevision: bigint, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const stream = this.#stream(signal);
    try {
      stream.watch(
        create(WatchCreateRequestSchema, {
          key,
          startRevision: fromRevision + 1n,
          filters: [WatchCreateRequest_FilterType.NOPUT],
        }),
      );
      for await (const response of stream) {
        if (response.canceled) return; // compacted past our revision: look again from the caller's loop
        if (
          response.events.some(
            (e) => e.type === Event_EventType.DELETE && sameBytes(e.kv?.key ?? new Uint8Array(), key),
          )
        ) {
          return;
        }
      }
      signal.throwIfAborted();
    } finally {
      this.#closeStream(stream);
    }
  }

  async *changes(prefix: Uint8Array, signal: AbortSignal): AsyncIterable<void> {
    const stream = this.#stream(signal);
    try {
      stream.watch(create(WatchCreateRequestSchema, { key: prefix, rangeEnd: prefixEnd(prefix) }));
      yield;
      for await (const response of stream) {
        if (response.canceled) return;
        if (response.events.length > 0) yield;
      }
    } finally {
      this.#closeStream(stream);
    }
  }

  /** close ends every wait in progress (the server stops). */
  close(): void {
    for (const stream of [...this.#open]) this.#closeStream(stream);
  }
}
