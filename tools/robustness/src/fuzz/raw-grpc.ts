import http2 from "node:http2";
import { grpcFrame } from "../cluster/grpc-unary.js";

/** RawGrpcAnswer is what a raw unary gRPC call got back. */
export interface RawGrpcAnswer {
  /** grpcStatus is the grpc-status trailer (or header, for trailers-only answers); undefined if absent. */
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string;
  readonly httpStatus: number;
  /** payload is the first length-prefixed message of the answer (undefined when none). */
  readonly payload: Uint8Array | undefined;
}

/**
 * RawGrpc sends arbitrary bytes as a unary gRPC request over one HTTP/2 session (so the fuzzer can send
 * corrupt protobuf that a typed client would never produce).
 */
export class RawGrpc {
  readonly #session: http2.ClientHttp2Session;

  constructor(baseUrl: string) {
    this.#session = http2.connect(baseUrl);
    this.#session.on("error", () => undefined);
  }

  /** call posts one framed message to `path` (e.g. /etcdserverpb.KV/Range). */
  call(path: string, body: Uint8Array, timeoutMs: number): Promise<RawGrpcAnswer> {
    return new Promise((resolve, reject) => {
      const req = this.#session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      const chunks: Buffer[] = [];
      let httpStatus = 0;
      let grpcStatus: number | undefined;
      let grpcMessage = "";
      const take = (headers: http2.IncomingHttpHeaders) => {
        const status = headers["grpc-status"];
        if (status !== undefined) grpcStatus = Number(status);
        const message = headers["grpc-message"];
        if (typeof message === "string") grpcMessage = decodeURIComponent(message);
      };
      const timer = setTimeout(() => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      req.on("response", (headers) => {
        httpStatus = Number(headers[":status"] ?? 0);
        take(headers);
      });
      req.on("trailers", take);
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.on("end", () => {
        clearTimeout(timer);
        const all = Buffer.concat(chunks);
        let payload: Uint8Array | undefined;
        if (all.length >= 5) {
          const length = all.readUInt32BE(1);
          payload = all.subarray(5, 5 + length);
        }
        resolve({ grpcStatus, grpcMessage, httpStatus, payload });
      });
      req.end(grpcFrame(body));
    });
  }

  close(): void {
    this.#session.destroy();
  }
}
