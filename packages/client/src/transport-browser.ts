/**
 * Browser transports (connect-web over fetch): gRPC-Web or Connect. Real etcd only speaks gRPC, which browsers
 * cannot; etcd-ts serves all three. fetch cannot send on a stream after the response began, so streams are
 * half-duplex and the watch code opens one stream per watcher.
 */
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import type { EndpointTransport, TransportSettings } from "./endpoint-transport.js";

/** createDefaultTransport makes the fetch-based transport for one endpoint (gRPC is mapped to gRPC-Web). */
export function createDefaultTransport(settings: TransportSettings): EndpointTransport {
  const transport =
    settings.protocol === "connect"
      ? createConnectTransport({ baseUrl: settings.baseUrl })
      : createGrpcWebTransport({ baseUrl: settings.baseUrl });
  return {
    transport,
    fullDuplex: false,
    connect: async () => {},
    close: () => {},
  };
}
