import { Code, ConnectError } from "@connectrpc/connect";
import type { Progress } from "./progress.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { Report } from "./report.js";

/** ClosedLoop describes `total` operations run by `concurrency` requesters, each waiting for its reply. */
export interface ClosedLoop {
  readonly total: number;
  readonly concurrency: number;
  readonly limiter: RateLimiter;
  readonly progress: Progress;
  /** report receives the latency (or error) of operation `i`. */
  readonly report: (i: number) => Report;
  /** operation runs the i-th request on requester `client`; it resolves when the reply arrived. */
  readonly operation: (client: number, i: number) => Promise<unknown>;
}

/**
 * errorMessage is the text an error is counted under in the error distribution: for an RPC error, grpc-go's
 * wording as etcd's benchmark prints it ("rpc error: code = Unavailable desc = etcdserver: request timed out").
 */
export function errorMessage(err: unknown): string {
  if (err instanceof ConnectError) return `rpc error: code = ${Code[err.code]} desc = ${err.rawMessage}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * runClosedLoop runs the loop: requesters take the next index from a shared counter until `total` are
 * taken; latency is measured around `operation` only (the rate limiter's wait is outside it). The hot path
 * allocates nothing itself beyond what `operation` does.
 */
export async function runClosedLoop(loop: ClosedLoop): Promise<void> {
  let next = 0;
  const requester = async (client: number): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= loop.total) return;
      if (!loop.limiter.unlimited) await loop.limiter.wait();
      const report = loop.report(i);
      const startMs = performance.now();
      try {
        await loop.operation(client, i);
        report.record(performance.now() - startMs);
      } catch (err) {
        report.recordError(errorMessage(err));
      }
      loop.progress.increment();
    }
  };
  const requesters: Promise<void>[] = [];
  for (let c = 0; c < loop.concurrency; c++) requesters.push(requester(c));
  await Promise.all(requesters);
}
