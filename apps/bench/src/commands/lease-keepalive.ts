import type { MessageInitShape } from "@bufbuild/protobuf";
import type { LeaseKeepAliveRequestSchema, LeaseKeepAliveResponse } from "@etcd-ts/proto/etcdserverpb";
import type { BenchContext } from "../bench-context.js";
import { runClosedLoop } from "../closed-loop.js";
import { CpuMeter } from "../cpu-meter.js";
import type { BenchResult } from "../options.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rate-limiter.js";
import { Report } from "../report.js";
import { RequestStream } from "../request-stream.js";

/** LeaseKeepaliveOptions are the flags of `lease-keepalive`. */
export interface LeaseKeepaliveOptions {
  /** total keep-alive requests (10000) */
  readonly total: number;
  /** keep-alives per second, 0 = no limit */
  readonly rate: number;
}

/** DEFAULT_LEASE_KEEPALIVE_OPTIONS are etcd's benchmark defaults for `lease-keepalive`. */
export const DEFAULT_LEASE_KEEPALIVE_OPTIONS: LeaseKeepaliveOptions = { total: 10000, rate: 0 };

/** Lease TTL the benchmark grants (etcd's benchmark uses 100 s). */
const LEASE_TTL_SECONDS = 100n;

/** KeepAliveChannel is one requester's keep-alive stream: send one request, await its one response. */
class KeepAliveChannel {
  private readonly requests = new RequestStream<MessageInitShape<typeof LeaseKeepAliveRequestSchema>>();
  private readonly responses: AsyncIterator<LeaseKeepAliveResponse>;

  constructor(ctx: BenchContext, client: number) {
    this.responses = ctx.lease(client).leaseKeepAlive(this.requests)[Symbol.asyncIterator]();
  }

  async keepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    const request: MessageInitShape<typeof LeaseKeepAliveRequestSchema> = { ID: id };
    this.requests.push(request);
    const next = await this.responses.next();
    if (next.done === true) throw new Error("lease keep-alive stream ended");
    if (next.value.TTL <= 0n) throw new Error("etcdserver: requested lease not found");
    return next.value;
  }

  close(): void {
    this.requests.end();
    void this.responses.return?.();
  }
}

/**
 * runLeaseKeepalive grants one lease per requester, then measures keep-alive round trips, each requester on
 * its own LeaseKeepAlive stream (one request, one response at a time), and revokes the leases at the end.
 */
export async function runLeaseKeepalive(
  ctx: BenchContext,
  options: LeaseKeepaliveOptions,
): Promise<BenchResult> {
  const clients = ctx.options.clients;
  const leases: bigint[] = [];
  const channels: KeepAliveChannel[] = [];
  for (let c = 0; c < clients; c++) {
    const grant = await ctx.lease(c).leaseGrant({ TTL: LEASE_TTL_SECONDS });
    leases.push(grant.ID);
    channels.push(new KeepAliveChannel(ctx, c));
  }
  const report = new Report("lease-keepalive");
  const progress = createProgress(options.total, ctx.options.progress);
  const cpu = new CpuMeter();
  report.start();
  try {
    await runClosedLoop({
      total: options.total,
      concurrency: clients,
      limiter: new RateLimiter(options.rate),
      progress,
      report: () => report,
      operation: (client) => channels[client]!.keepAlive(leases[client]!),
    });
  } finally {
    for (const ch of channels) ch.close();
  }
  const stats = report.finish();
  const clientCpu = cpu.stop();
  progress.stop();
  await Promise.all(
    leases.map((ID, c) =>
      ctx
        .lease(c)
        .leaseRevoke({ ID })
        .catch(() => undefined),
    ),
  );
  return {
    command: "lease-keepalive",
    endpoints: ctx.endpoints,
    conns: ctx.options.conns,
    clients,
    sections: [{ stats }],
    clientCpu,
  };
}
