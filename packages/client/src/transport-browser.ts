/**
 * Browser transports (connect-web over fetch): gRPC-Web or Connect. Real etcd only speaks gRPC, which browsers
 * cannot; etcd-ts serves all three. fetch cannot send on a stream after the response began, so streams are
 * half-duplex and the watch code opens one stream per watcher.
 */
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import type { EndpointTransport, TransportSettings } from "./endpoint-transport.js";

/**
 * singleRequestStreams lets bidirectional methods (Watch, LeaseKeepAlive) through fetch: connect-web refuses
 * streaming request bodies, but a bidi call whose request stream is one message is, on the gRPC-Web and
 * Connect wire, the same as a server-streaming call. The client's half-duplex paths send exactly one message.
 */
export function singleRequestStreams(inner: Transport): Transport {
  return {
    unary: (...args) => inner.unary(...args),
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      inner.stream(
        method.methodKind === "bidi_streaming"
          ? ({ ...method, methodKind: "server_streaming" } as unknown as typeof method)
          : method,
        signal,
        timeoutMs,
        header,
        input,
        contextValues,
      ),
  };
}

/** createDefaultTransport makes the fetch-based transport for one endpoint (gRPC is mapped to gRPC-Web). */
export function createDefaultTransport(settings: TransportSettings): EndpointTransport {
  const transport = singleRequestStreams(
    settings.protocol === "connect"
      ? createConnectTransport({ baseUrl: settings.baseUrl })
      : createGrpcWebTransport({ baseUrl: settings.baseUrl }),
  );
  return {
    transport,
    fullDuplex: false,
    connect: async () => {},
    close: () => {},
  };
}
