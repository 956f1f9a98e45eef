import type { HandlerContext } from "@connectrpc/connect";
import { clientCommonNameHeader } from "../http/listener.js";

/** RequestContext is what the API layer passes down with every request. */
export interface RequestContext {
  /** token is the auth token from the `token` metadata (gRPC) or `Authorization` header (gateway). */
  readonly token: string | undefined;
  /** requireLeader is set by clients that want "no leader" instead of a wait (etcd's `hasleader`). */
  readonly requireLeader: boolean;
  /** signal aborts when the client goes away or its deadline passes. */
  readonly signal: AbortSignal;
  /** commonName is the CN of the client's verified TLS certificate (--client-cert-auth), if any. */
  readonly commonName?: string | undefined;
}

/** requestContext reads the request context from a Connect handler context. */
export function requestContext(ctx: HandlerContext): RequestContext {
  const token = ctx.requestHeader.get("token") ?? ctx.requestHeader.get("authorization") ?? undefined;
  return {
    token: token === null || token === "" ? undefined : token,
    requireLeader: ctx.requestHeader.get("hasleader") === "true",
    // Read on use: the gRPC fast path makes a call's signal (listener, deadline timer) only when asked.
    get signal() {
      return ctx.signal;
    },
    commonName: ctx.requestHeader.get(clientCommonNameHeader) ?? undefined,
  };
}
