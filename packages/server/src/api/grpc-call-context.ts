import type http2 from "node:http2";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";

/**
 * GrpcCallContext is the HandlerContext of one call on the gRPC fast path. Connect's `createHandlerContext`
 * builds, for every call, three Headers (copying the request's), a deadline timer and two linked abort
 * controllers; a unary KV call uses none of them but the request metadata. Here the abort signal (with the
 * client-close listener and the deadline timer behind it), the context values and the response headers are
 * made on first use, and `dispose` releases what was made when the call ends.
 */
export class GrpcCallContext implements HandlerContext {
  readonly method: DescMethod;
  readonly service: DescService;
  readonly requestMethod = "POST";
  readonly protocolName = "grpc";
  readonly requestHeader: Headers;
  readonly #res: http2.Http2ServerResponse;
  /** deadlineMs is the call's deadline (epoch ms) from grpc-timeout, if the client sent one. */
  readonly #deadlineMs: number | undefined;
  readonly #path: string;
  #abort: AbortController | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #values: ContextValues | undefined;
  #responseHeader: Headers | undefined;
  #responseTrailer: Headers | undefined;
  #disposed = false;
  /** clientClosed is set once the client went away (the stream closed before the call ended). */
  clientClosed = false;

  constructor(
    method: DescMethod,
    req: http2.Http2ServerRequest,
    res: http2.Http2ServerResponse,
    timeoutMs: number | undefined,
  ) {
    this.method = method;
    this.service = method.parent;
    this.#res = res;
    this.#path = req.url;
    this.#deadlineMs = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const entries: Array<[string, string]> = [];
    for (const name in req.headers) {
      const value = req.headers[name];
      if (name.startsWith(":") || value === undefined) continue;
      entries.push([name, Array.isArray(value) ? value.join(", ") : value]);
    }
    this.requestHeader = new Headers(entries);
  }

  get url(): string {
    return `http://localhost${this.#path}`;
  }

  readonly timeoutMs = (): number | undefined =>
    this.#deadlineMs === undefined ? undefined : this.#deadlineMs - Date.now();

  /** signal aborts when the client closes the stream or the deadline passes (made on first use). */
  get signal(): AbortSignal {
    if (this.#abort !== undefined) return this.#abort.signal;
    const abort = new AbortController();
    this.#abort = abort;
    // Asked after the call ended (as Connect's, which the fast path never aborted at the end): no listener
    // or timer is left behind for it.
    if (this.#disposed) return abort.signal;
    if (this.#res.stream.destroyed) {
      this.clientClosed = true;
      abort.abort(closedError());
      return abort.signal;
    }
    this.#res.once("close", this.#onClose);
    if (this.#deadlineMs !== undefined) {
      this.#deadlineTimer = setTimeout(
        () => abort.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)),
        Math.max(0, this.#deadlineMs - Date.now()),
      );
    }
    return abort.signal;
  }

  get values(): ContextValues {
    this.#values ??= createContextValues();
    return this.#values;
  }

  get responseHeader(): Headers {
    this.#responseHeader ??= new Headers();
    return this.#responseHeader;
  }

  get responseTrailer(): Headers {
    this.#responseTrailer ??= new Headers();
    return this.#responseTrailer;
  }

  readonly #onClose = (): void => {
    this.clientClosed = true;
    this.#abort?.abort(closedError());
  };

  /** dispose ends the call: the deadline timer and the close listener go (the signal stays as it is). */
  dispose(): void {
    this.#disposed = true;
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    if (this.#abort !== undefined) this.#res.off("close", this.#onClose);
  }
}

function closedError(): ConnectError {
  return new ConnectError("client closed the stream", Code.Canceled);
}
