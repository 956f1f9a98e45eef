import type * as http2 from "node:http2";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import {
  create,
  type DescMessage,
  fromBinary,
  isMessage,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { UnaryResponse } from "@connectrpc/connect";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";

/** Largest response message accepted (etcd's default client limit is 2 GiB; 64 MiB is plenty for a benchmark). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const GRPC_HEADER_BYTES = 5;

/** Response headers and trailers are not surfaced by this path; every response shares these empty ones. */
const EMPTY_HEADERS = new Headers();

function grpcStatusOf(headers: http2.IncomingHttpHeaders): { code: number; message: string } | undefined {
  const status = headers["grpc-status"];
  if (status === undefined) return undefined;
  const raw = headers["grpc-message"];
  const message = typeof raw === "string" ? decodeURIComponent(raw) : "";
  return { code: Number(status), message };
}

/**
 * leanUnaryTransport makes a connect Transport whose unary calls are plain gRPC over the given HTTP/2 session
 * (one request stream per call: HEADERS, one length-prefixed message, then read the reply and its trailers),
 * and whose streaming calls go to `streams` (connect-node's gRPC transport on the same session manager, so
 * they share the HTTP/2 connection). connect-node's general unary path costs several hundred microseconds of
 * client CPU per call on a small VM (async-iterable pipelines, abort signals, header objects); this one does
 * only the framing, so the benchmark client is not what limits the measured server. No compression, no
 * deadlines, no interceptors: a benchmark needs none of them.
 */
export function leanUnaryTransport(
  session: Http2SessionManager,
  baseUrl: string,
  streams: Transport,
): Transport {
  const prefix = new URL(baseUrl).pathname.replace(/\/+$/, "");
  return {
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      streams.stream(method, signal, timeoutMs, header, input, contextValues),
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      _signal: AbortSignal | undefined,
      _timeoutMs: number | undefined,
      _header: Parameters<Transport["unary"]>[3],
      input: MessageInitShape<I>,
    ): Promise<UnaryResponse<I, O>> {
      const message = isMessage(input, method.input) ? input : create(method.input, input);
      const payload = toBinary(method.input, message);
      const frame = Buffer.allocUnsafe(GRPC_HEADER_BYTES + payload.length);
      frame[0] = 0;
      frame.writeUInt32BE(payload.length, 1);
      frame.set(payload, GRPC_HEADER_BYTES);
      const path = `${prefix}/${method.parent.typeName}/${method.name}`;
      const stream = await session.request(
        "POST",
        path,
        { "content-type": "application/grpc+proto", te: "trailers" },
        {},
      );
      const body = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let status: { code: number; message: string } | undefined;
        stream.on("response", (headers) => {
          status ??= grpcStatusOf(headers);
          const httpStatus = headers[":status"];
          if (httpStatus !== undefined && httpStatus !== 200) {
            status ??= { code: Code.Unknown, message: `HTTP status ${httpStatus}` };
          }
        });
        stream.on("trailers", (trailers) => {
          status ??= grpcStatusOf(trailers);
        });
        stream.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            stream.close();
            reject(
              new ConnectError(`response larger than ${MAX_RESPONSE_BYTES} bytes`, Code.ResourceExhausted),
            );
            return;
          }
          chunks.push(chunk);
          session.notifyResponseByteRead(stream);
        });
        stream.on("error", (err) => reject(ConnectError.from(err, Code.Unavailable)));
        stream.on("close", () => {
          if (status === undefined) {
            reject(new ConnectError("stream closed without grpc-status", Code.Unavailable));
          } else if (status.code !== 0) {
            reject(new ConnectError(status.message, status.code as Code));
          } else {
            resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
          }
        });
        stream.end(frame);
      });
      if (body.length < GRPC_HEADER_BYTES) throw new ConnectError("missing response message", Code.Internal);
      if (body[0] !== 0) throw new ConnectError("compressed response not supported", Code.Internal);
      const length = body.readUInt32BE(1);
      const bytes = body.subarray(GRPC_HEADER_BYTES, GRPC_HEADER_BYTES + length);
      return {
        stream: false,
        service: method.parent,
        method,
        header: EMPTY_HEADERS,
        trailer: EMPTY_HEADERS,
        message: fromBinary(method.output, bytes),
      };
    },
  };
}
