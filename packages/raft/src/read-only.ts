import type { Message, ReadOnlyOption } from "./types.js";

/**
 * MAX_PENDING_READ_INDEX_REQUESTS bounds the ReadIndex requests a leader holds (waiting for a heartbeat
 * quorum, or for its first commit in the term); beyond it new requests are dropped (ProposalDroppedError)
 * and the client retries.
 */
export const MAX_PENDING_READ_INDEX_REQUESTS = 4096;

/** ReadIndexStatus is one pending ReadIndex request and the heartbeat acks collected for it. */
export interface ReadIndexStatus {
  req: Message;
  /** The leader's commit index when the request arrived: the read index to hand back. */
  index: number;
  acks: Set<bigint>;
}

/** ctxKey turns a request context into a map key. */
function ctxKey(ctx: Uint8Array): string {
  let s = "";
  for (const b of ctx) s += String.fromCharCode(b);
  return s;
}

/**
 * ReadOnly tracks ReadIndex requests on the leader. In Safe mode each request is answered once a quorum
 * acknowledged a heartbeat sent after it arrived; requests are answered in arrival order.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** addRequest records a request whose read index is `index` (the commit index at arrival). */
  addRequest(index: number, m: Message): void {
    const key = ctxKey(m.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req: m, acks: new Set() });
    this.queue.push(key);
  }

  /** recvAck records a heartbeat ack carrying `ctx` and returns the acks so far (undefined if unknown). */
  recvAck(id: bigint, ctx: Uint8Array): Set<bigint> | undefined {
    const rs = this.pending.get(ctxKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /**
   * advance dequeues the request with context `ctx` and every request queued before it (a quorum for a
   * later request confirms the earlier ones too), returning them in order.
   */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = ctxKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (rs === undefined) throw new Error("cannot find corresponding read state from pending map");
      this.pending.delete(k);
      out.push(rs);
    }
    return out;
  }

  /** lastPendingRequestCtx returns the context of the newest pending request, if any. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    if (key === undefined) return undefined;
    return this.pending.get(key)!.req.entries[0]!.data;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
