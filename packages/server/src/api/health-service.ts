import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@etcd-ts/proto/health";

/**
 * healthService serves grpc.health.v1.Health for the whole server (service "") and each etcd service name:
 * SERVING while the member is up. Watch sends the current status once, then again when it changes.
 */
export function healthService(
  isServing: () => boolean,
  knownServices: ReadonlySet<string>,
): ServiceImpl<typeof Health> {
  const status = () =>
    isServing() ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING;
  return {
    check(req) {
      if (req.service !== "" && !knownServices.has(req.service)) {
        throw new ConnectError("unknown service", Code.NotFound);
      }
      return create(HealthCheckResponseSchema, { status: status() });
    },
    async *watch(req, ctx) {
      if (req.service !== "" && !knownServices.has(req.service)) {
        yield create(HealthCheckResponseSchema, {
          status: HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
        });
        return;
      }
      let last = status();
      yield create(HealthCheckResponseSchema, { status: last });
      while (!ctx.signal.aborted) {
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
        const now = status();
        if (now !== last) {
          last = now;
          yield create(HealthCheckResponseSchema, { status: now });
        }
      }
    },
  };
}
