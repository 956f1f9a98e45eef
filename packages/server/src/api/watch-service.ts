import { create } from "@bufbuild/protobuf";
import { Code, type ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { AuthInfo } from "@etcd-ts/auth";
import { type ResponseHeader, type Watch, WatchResponseSchema } from "@etcd-ts/proto/etcdserverpb";
import { limits } from "../config.js";
import { errors, toConnectError } from "../errors.js";
import { requestContext } from "./request-context.js";
import type { WatchHub } from "./watch-hub.js";

/**
 * goStatusText renders an error the way etcd's Go server writes a gRPC status error into a watch's
 * cancel_reason: `rpc error: code = PermissionDenied desc = etcdserver: permission denied`.
 */
function goStatusText(err: ConnectError): string {
  const name = Code[err.code] ?? "Unknown";
  return `rpc error: code = ${name.charAt(0).toUpperCase()}${name.slice(1)} desc = ${err.rawMessage}`;
}

/** WatchAuth is what the watch service needs to check a watcher's permission. */
export interface WatchAuth {
  authInfoFor(rc: ReturnType<typeof requestContext>): Promise<AuthInfo | undefined>;
  checkWatchPermitted(who: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void;
  header(revision?: bigint): ResponseHeader;
  readonly leader: bigint;
}

/**
 * watchService serves etcdserverpb.Watch: one bidirectional stream carries many watchers. Requests
 * (create, cancel, progress) are read concurrently with the responses the mvcc watch stream produces;
 * every response gets the member's header. A watcher the user may not read is created canceled with
 * "etcdserver: permission denied", as etcd does. The stream ends when the client half-closes or goes away.
 */
export function watchService(server: WatchAuth, hub: WatchHub): ServiceImpl<typeof Watch> {
  return {
    async *watch(requests, ctx) {
      const rc = requestContext(ctx);
      if (rc.requireLeader && server.leader === 0n) throw errors.noLeader();
      const who = await server.authInfoFor(rc);
      const stream = hub.store.newWatchStream();
      const denied: Array<ReturnType<typeof create<typeof WatchResponseSchema>>> = [];
      let wake: (() => void) | undefined;
      let readerError: unknown;
      let watchers = 0;
      const reader = (async () => {
        try {
          for await (const req of requests) {
            const r = req.requestUnion;
            switch (r.case) {
              case "createRequest": {
                const key = r.value.key.length === 0 ? new Uint8Array([0]) : r.value.key;
                try {
                  server.checkWatchPermitted(who, key, r.value.rangeEnd);
                } catch (err) {
                  denied.push(
                    create(WatchResponseSchema, {
                      header: server.header(),
                      watchId: -1n,
                      created: true,
                      canceled: true,
                      cancelReason: goStatusText(toConnectError(err)),
                    }),
                  );
                  wake?.();
                  break;
                }
                if (++watchers > limits.maxWatchersPerStream) throw errors.tooManyRequests();
                stream.watch(r.value);
                break;
              }
              case "cancelRequest":
                stream.cancel(r.value.watchId);
                break;
              case "progressRequest":
                stream.requestProgress();
                break;
              case undefined:
                break;
            }
          }
        } catch (err) {
          readerError = err;
        } finally {
          hub.store.closeWatchStream(stream);
        }
      })();
      try {
        for (;;) {
          while (denied.length > 0) yield denied.shift() as never;
          const next = await Promise.race([
            stream.next(),
            new Promise<"denied">((resolve) => {
              wake = () => resolve("denied");
            }),
          ]);
          wake = undefined;
          if (next === "denied") continue;
          if (next === undefined) break;
          next.header = server.header(next.header?.revision || undefined);
          yield next;
        }
        if (readerError !== undefined && !ctx.signal.aborted) {
          const name = (readerError as Error).name;
          if (
            name !== "AbortError" &&
            (readerError as { code?: string }).code !== "ERR_STREAM_PREMATURE_CLOSE"
          ) {
            throw readerError;
          }
        }
      } finally {
        hub.store.closeWatchStream(stream);
        await reader;
      }
    },
  };
}
