import type { Interceptor } from "@connectrpc/connect";
import { toConnectError } from "../errors.js";

async function* mapStreamErrors<T>(stream: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* stream;
  } catch (err) {
    throw toConnectError(err);
  }
}

/**
 * errorInterceptor maps every error a handler throws (also midway through a response stream) to etcd's
 * gRPC code and message, through the one table in errors.ts.
 */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    if (res.stream) return { ...res, message: mapStreamErrors(res.message) };
    return res;
  } catch (err) {
    throw toConnectError(err);
  }
};
