import type { MessageInitShape } from "@bufbuild/protobuf";
import type { WatchRequestSchema, WatchResponse } from "@etcd-ts/proto/etcdserverpb";
import type { Event } from "@etcd-ts/proto/mvccpb";
import type { BenchContext } from "./bench-context.js";
import { RequestStream } from "./request-stream.js";

/** EventHandler receives the events of one watch response and the time (ms) it arrived. */
export type EventHandler = (watchId: bigint, events: readonly Event[], arrivedMs: number) => void;

/**
 * WatchChannel is one Watch stream carrying many watchers. Creates are answered in order by the server, so
 * pending creates are matched first-in first-out with the `created` responses.
 */
export class WatchChannel {
  private readonly requests = new RequestStream<MessageInitShape<typeof WatchRequestSchema>>();
  private readonly pendingCreates: {
    resolve: (watchId: bigint) => void;
    reject: (err: Error) => void;
  }[] = [];
  private readonly onEvents: EventHandler;
  /** done settles when the response stream ends (or fails). */
  readonly done: Promise<void>;
  private failure: Error | undefined;

  constructor(ctx: BenchContext, stream: number, onEvents: EventHandler) {
    this.onEvents = onEvents;
    const responses = ctx.watch(stream).watch(this.requests);
    this.done = this.read(responses);
  }

  private async read(responses: AsyncIterable<WatchResponse>): Promise<void> {
    try {
      for await (const response of responses) {
        const arrivedMs = performance.now();
        if (response.created) {
          const pending = this.pendingCreates.shift();
          if (response.canceled) pending?.reject(new Error(response.cancelReason || "watch canceled"));
          else pending?.resolve(response.watchId);
        }
        if (response.events.length > 0) this.onEvents(response.watchId, response.events, arrivedMs);
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    }
    const failure = this.failure ?? new Error("watch stream ended");
    for (const pending of this.pendingCreates.splice(0)) pending.reject(failure);
  }

  /** create starts a watcher on `key` and resolves with its id once the server confirmed it. */
  create(key: Uint8Array): Promise<bigint> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pendingCreates.push({ resolve, reject });
      this.requests.push({ requestUnion: { case: "createRequest", value: { key } } });
    });
  }

  /** close half-closes the request stream; the server then ends the response stream. */
  close(): void {
    this.requests.end();
  }
}
