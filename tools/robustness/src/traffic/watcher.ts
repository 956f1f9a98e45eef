import { Event_EventType } from "@etcd-ts/proto/mvccpb";
import { bytes, type EtcdClient, errorText, toKeyValue, toNumber } from "../cluster/etcd-client.js";
import type { KeyValue } from "../model/etcd-types.js";
import { sleep } from "../sleep.js";

/** WatchEvent is one event a watcher received. */
export interface WatchEvent {
  readonly type: "put" | "delete";
  readonly revision: number;
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | undefined;
}

/** WatchRecord is everything one watcher saw, for the watch checks. */
export interface WatchRecord {
  readonly id: number;
  /** startRevision is what the watch asked for first (0 = "from now"). */
  readonly startRevision: number;
  /** responses hold the events of each WatchResponse, in arrival order. */
  readonly responses: WatchEvent[][];
  /** resumes counts how often the stream broke and was re-created from the next revision. */
  resumes: number;
  /** compactedAt is set when the server cancelled the watch because its revision was compacted. */
  compactedAt: number | undefined;
  /** createdRevision is the header revision of the first "created" answer. */
  createdRevision: number | undefined;
  /** errors lists stream failures (for the report). */
  readonly errors: string[];
}

/**
 * Watcher keeps one logical watch on the traffic's prefix (with prev_kv) open across stream failures: when
 * a stream breaks it is re-created from the revision after the last event seen (etcd's resumable watch),
 * on the next member when `clientFor` rotates.
 */
export class Watcher {
  readonly record: WatchRecord;
  #running = true;
  #abort = new AbortController();
  #done: Promise<void> | undefined;
  #lastRevision = 0;

  constructor(
    id: number,
    startRevision: number,
    private readonly prefix: string,
    private readonly prefixEnd: string,
    private readonly clientFor: (failures: number) => EtcdClient,
  ) {
    this.record = {
      id,
      startRevision,
      responses: [],
      resumes: 0,
      compactedAt: undefined,
      createdRevision: undefined,
      errors: [],
    };
  }

  /** lastRevision is the revision of the newest event received. */
  get lastRevision(): number {
    return this.#lastRevision;
  }

  start(): void {
    this.#done = this.#run();
  }

  /** stop closes the stream. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    await this.#done;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running && this.record.compactedAt === undefined) {
      // Resume after the last event; a "from now" watch that saw none resumes after its creation revision.
      const created = this.record.createdRevision;
      const from =
        this.#lastRevision > 0
          ? this.#lastRevision + 1
          : this.record.startRevision === 0 && created !== undefined
            ? created + 1
            : this.record.startRevision;
      const client = this.clientFor(failures);
      try {
        await this.#stream(client, from);
      } catch (err) {
        if (!this.#running) break;
        this.record.errors.push(errorText(err));
      }
      if (!this.#running) break;
      failures++;
      this.record.resumes++;
      await sleep(50);
    }
  }

  async #stream(client: EtcdClient, from: number): Promise<void> {
    const abort = this.#abort;
    // One listener per stream, removed when the stream ends (a watcher may resume many times in a run).
    let onAbort = () => {};
    const stop = new Promise<void>((resolve) => {
      onAbort = resolve;
      abort.signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await this.#consume(client, from, stop);
    } finally {
      abort.signal.removeEventListener("abort", onAbort);
    }
  }

  async #consume(client: EtcdClient, from: number, stop: Promise<void>): Promise<void> {
    const abort = this.#abort;
    const prefix = this.prefix;
    const prefixEnd = this.prefixEnd;
    async function* requests() {
      yield {
        requestUnion: {
          case: "createRequest" as const,
          value: {
            key: bytes(prefix),
            rangeEnd: bytes(prefixEnd),
            startRevision: BigInt(from),
            prevKv: true,
          },
        },
      };
      await stop;
    }
    for await (const res of client.watch.watch(requests(), { signal: abort.signal })) {
      if (res.created && this.record.createdRevision === undefined) {
        this.record.createdRevision = toNumber(res.header?.revision ?? 0n);
      }
      if (res.compactRevision > 0n) {
        this.record.compactedAt = toNumber(res.compactRevision);
        return;
      }
      if (res.canceled) throw new Error(`watch canceled: ${res.cancelReason}`);
      if (res.events.length === 0) continue;
      const events = res.events.map((e) => {
        const kv = toKeyValue(
          e.kv ??
            ({
              key: new Uint8Array(),
              value: new Uint8Array(),
              modRevision: 0n,
              createRevision: 0n,
              version: 0n,
              lease: 0n,
            } as never),
        );
        return {
          type: e.type === Event_EventType.DELETE ? ("delete" as const) : ("put" as const),
          revision: kv.modRevision,
          kv,
          prevKv: e.prevKv === undefined ? undefined : toKeyValue(e.prevKv),
        };
      });
      this.record.responses.push(events);
      for (const e of events) this.#lastRevision = Math.max(this.#lastRevision, e.revision);
    }
    if (this.#running) throw new Error("watch stream ended");
  }
}
