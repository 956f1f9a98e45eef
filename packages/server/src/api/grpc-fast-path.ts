import type http from "node:http";
import type http2 from "node:http2";
import { gunzipSync } from "node:zlib";
import { create, type DescMethod, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { toConnectError } from "../errors.js";
import { GrpcCallContext } from "./grpc-call-context.js";

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;
type AnyImpl = (input: unknown, ctx: HandlerContext) => unknown;

/** A service and its implementation (the same objects Connect serves). */
export type ServiceEntry = readonly [DescService, object];

const timeoutUnitsMs: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/** parseGrpcTimeout reads a grpc-timeout header ("5S", "100m", ...) in milliseconds. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * (timeoutUnitsMs[match[2] as string] as number);
}

/**
 * readMessages yields the gRPC length-prefixed messages of a request body: 1 byte flags (bit 0 =
 * compressed), 4 bytes big-endian length, then the message. A message over `readMaxBytes` is refused
 * before it is buffered.
 */
async function* readMessages(req: Req, readMaxBytes: number, gzip: boolean): AsyncGenerator<Uint8Array> {
  let buffer: Buffer = Buffer.alloc(0);
  for await (const chunk of req as AsyncIterable<Buffer>) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= 5) {
      const length = buffer.readUInt32BE(1);
      if (length > readMaxBytes) {
        throw new ConnectError(
          `grpc: received message larger than max (${length} vs. ${readMaxBytes})`,
          Code.ResourceExhausted,
        );
      }
      if (buffer.length < 5 + length) break;
      const compressed = ((buffer[0] as number) & 1) === 1;
      const body = buffer.subarray(5, 5 + length);
      buffer = buffer.subarray(5 + length);
      if (!compressed) {
        yield body;
        continue;
      }
      if (!gzip) throw new ConnectError("compressed message without grpc-encoding", Code.Internal);
      yield gunzipSync(body, { maxOutputLength: readMaxBytes });
    }
  }
  if (buffer.length > 0) throw new ConnectError("incomplete gRPC message", Code.InvalidArgument);
}

function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + bytes.length);
  out[0] = 0;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}

function closedByClient(): ConnectError {
  return new ConnectError("client closed the stream", Code.Canceled);
}

function statusHeaders(err: unknown): Record<string, string> {
  const ce = toConnectError(err);
  return { "grpc-status": String(ce.code), "grpc-message": encodeURIComponent(ce.rawMessage) };
}

/**
 * createGrpcFastPath serves gRPC (HTTP/2, application/grpc) straight on node:http2 for the same service
 * implementations Connect serves, without Connect's per-call machinery (which costs several times more CPU
 * per unary call): length-prefixed framing, gzip request messages, grpc-timeout, metadata (`token`,
 * `hasleader`) through the handler context, and the status in trailers (or trailers-only on early errors).
 * Everything else (gRPC-Web, Connect, the JSON gateway, unknown paths) returns false and goes to Connect.
 */
export function createGrpcFastPath(
  services: readonly ServiceEntry[],
  readMaxBytes: number,
): (req: Req, res: Res) => boolean {
  const methods = new Map<string, { method: DescMethod; impl: AnyImpl }>();
  for (const [service, impl] of services) {
    for (const method of service.methods) {
      const fn = (impl as Record<string, AnyImpl | undefined>)[method.localName];
      if (fn === undefined) continue;
      methods.set(`/${service.typeName}/${method.name}`, { method, impl: fn.bind(impl) as AnyImpl });
    }
  }
  return (req, res) => {
    if (req.httpVersionMajor !== 2 || req.method !== "POST") return false;
    const contentType = req.headers["content-type"];
    if (contentType !== "application/grpc" && contentType !== "application/grpc+proto") return false;
    const entry = methods.get(req.url ?? "");
    if (entry === undefined) return false;
    void serve(entry.method, entry.impl, req as http2.Http2ServerRequest, res as http2.Http2ServerResponse);
    return true;
  };

  async function serve(
    method: DescMethod,
    impl: AnyImpl,
    req: http2.Http2ServerRequest,
    res: http2.Http2ServerResponse,
  ): Promise<void> {
    const encoding = req.headers["grpc-encoding"];
    const gzip = encoding === "gzip";
    const timeoutMs = parseGrpcTimeout(req.headers["grpc-timeout"] as string | undefined);
    const ctx = new GrpcCallContext(method, req, res, timeoutMs);
    // The client may reset the stream at any time (a cancelled call, a killed client). Whether it did is
    // read from the stream itself: the context only tracks it once a handler asked for the abort signal,
    // and responding on a destroyed stream throws out of this task and would take the member down.
    const gone = () => res.stream.destroyed || res.stream.closed;
    let headersSent = false;
    const sendHeaders = () => {
      if (headersSent) return;
      headersSent = true;
      res.writeHead(200, { "content-type": "application/grpc", "grpc-accept-encoding": "gzip" });
    };
    try {
      if (encoding !== undefined && encoding !== "identity" && !gzip) {
        throw new ConnectError(`unsupported grpc-encoding ${String(encoding)}`, Code.Unimplemented);
      }
      const messages = readMessages(req, readMaxBytes, gzip);
      const decode = async function* () {
        for await (const bytes of messages) yield fromBinary(method.input, bytes);
      };
      const single = async () => {
        let first: unknown;
        let count = 0;
        for await (const message of decode()) {
          if (count++ === 0) first = message;
        }
        if (count !== 1)
          throw new ConnectError(`expected 1 request message, got ${count}`, Code.InvalidArgument);
        return first;
      };
      const write = (message: unknown) => {
        if (gone()) throw closedByClient();
        sendHeaders();
        res.write(frame(toBinary(method.output, create(method.output, message as never))));
      };
      switch (method.methodKind) {
        case "unary":
          write(await impl(await single(), ctx));
          break;
        case "server_streaming":
          for await (const message of impl(await single(), ctx) as AsyncIterable<unknown>) write(message);
          break;
        case "client_streaming":
          write(await impl(decode(), ctx));
          break;
        case "bidi_streaming":
          sendHeaders(); // a bidi client may wait for headers before it sends
          for await (const message of impl(decode(), ctx) as AsyncIterable<unknown>) write(message);
          break;
      }
      if (gone()) return;
      if (!headersSent) sendHeaders();
      res.addTrailers({ "grpc-status": "0" });
      res.end();
    } catch (err) {
      if (gone()) return;
      if (!headersSent) {
        // Trailers-only: ONE HEADERS frame that ends the stream (what gRPC clients expect for an early error).
        headersSent = true;
        res.stream.respond(
          { ":status": 200, "content-type": "application/grpc", ...statusHeaders(err) },
          { endStream: true },
        );
        return;
      }
      res.addTrailers(statusHeaders(err));
      res.end();
    } finally {
      ctx.dispose();
    }
  }
}
