import http2 from "node:http2";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { assert } from "../assert.js";

/** GrpcError is a unary call that ended with a non-OK grpc-status; `rawMessage` is etcd's text. */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly rawMessage: string,
  ) {
    super(`[grpc ${code}] ${rawMessage}`);
    this.name = "GrpcError";
  }
}

/**
 * Session is one HTTP/2 connection and, if it never connected, why (e.g. ECONNREFUSED): the calls on it
 * report that error, which tells the traffic that the request never left.
 */
interface Session {
  readonly h2: http2.ClientHttp2Session;
  connectError: Error | undefined;
}

/** grpcFrame is one uncompressed length-prefixed gRPC message: flag 0, a 4-byte big-endian length, `body`. */
export function grpcFrame(body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}

/** percentDecoded is a grpc-message's text; a malformed escape leaves it as it came. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The largest answer a call accepts (a list of the traffic's keys is a few KiB). */
const maxAnswerBytes = 64 * 1024 * 1024;

/**
 * UnaryGrpc makes unary gRPC calls over one HTTP/2 session straight on `node:http2`: one request frame
 * out, one answer frame and the trailers back. The traffic's clients make thousands of calls a second on
 * the same machine as the cluster under test; Connect's client costs about twice the CPU per call (abort
 * signals, async iterables, header objects), CPU the members then lack. Streams (watch) stay on Connect.
 *
 * The session is opened on the first call and again after it closes (a killed member, a cut connection).
 */
export class UnaryGrpc {
  #current: Session | undefined;

  constructor(readonly baseUrl: string) {}

  /** close destroys the session; calls in flight fail. */
  close(): void {
    this.#current?.h2.destroy();
    this.#current = undefined;
  }

  #open(): Session {
    const current = this.#current;
    if (current !== undefined && !current.h2.closed && !current.h2.destroyed) return current;
    const opened: Session = { h2: http2.connect(this.baseUrl), connectError: undefined };
    this.#current = opened;
    let connected = false;
    opened.h2.once("connect", () => {
      connected = true;
    });
    opened.h2.on("error", (err: Error) => {
      if (!connected) opened.connectError = err;
    });
    opened.h2.once("close", () => {
      if (this.#current === opened) this.#current = undefined;
    });
    return opened;
  }

  /** call sends `request` to `method` and resolves with the answer; a failure rejects (GrpcError or other). */
  call<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    timeoutMs: number,
  ): Promise<MessageShape<O>> {
    assert(timeoutMs > 0 && Number.isFinite(timeoutMs), `timeout ${timeoutMs} ms`);
    const body = toBinary(method.input, create(method.input, request));
    const frame = grpcFrame(body);
    const session = this.#open();
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, answer?: MessageShape<O>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err !== undefined) reject(err);
        else resolve(answer as MessageShape<O>);
      };
      const stream = session.h2.request({
        ":method": "POST",
        ":path": `/${method.parent.typeName}/${method.name}`,
        "content-type": "application/grpc+proto",
        te: "trailers",
        "grpc-timeout": `${Math.ceil(timeoutMs)}m`,
      });
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        settle(new Error(`deadline exceeded: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      let status: number | undefined;
      let message = "";
      const takeStatus = (headers: http2.IncomingHttpHeaders) => {
        const s = headers["grpc-status"];
        // A status that is not a number is no status at all (the call then fails as "closed without").
        if (typeof s === "string" && /^\d+$/.test(s)) status = Number(s);
        const m = headers["grpc-message"];
        if (typeof m === "string") message = percentDecoded(m);
      };
      const chunks: Buffer[] = [];
      let received = 0;
      stream.on("response", (headers) => {
        const http = Number(headers[":status"]);
        if (http !== 200) {
          settle(new Error(`HTTP status ${http} from ${method.name}`));
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        takeStatus(headers);
      });
      stream.on("trailers", takeStatus);
      stream.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxAnswerBytes) {
          settle(new Error(`answer of ${method.name} is over ${maxAnswerBytes} bytes`));
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", (err: Error) => settle(session.connectError ?? err));
      stream.on("close", () => {
        if (settled) return;
        if (status === undefined) {
          settle(
            session.connectError ?? new Error(`stream closed without a status (code ${stream.rstCode})`),
          );
          return;
        }
        if (status !== 0) {
          settle(new GrpcError(status, message));
          return;
        }
        const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        if (all.length < 5 || all[0] !== 0) {
          settle(new Error(`answer of ${method.name} has no (uncompressed) message`));
          return;
        }
        const length = all.readUInt32BE(1);
        if (all.length !== 5 + length) {
          settle(new Error(`answer of ${method.name}: frame of ${length} bytes in ${all.length - 5}`));
          return;
        }
        try {
          settle(undefined, fromBinary(method.output, all.subarray(5)));
        } catch (err) {
          settle(err instanceof Error ? err : new Error(String(err)));
        }
      });
      stream.end(frame);
    });
  }
}
