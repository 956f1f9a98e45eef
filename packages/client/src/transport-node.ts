/**
 * Node transports: gRPC, gRPC-Web or Connect over one HTTP/2 connection per endpoint (connect-node), with TLS
 * and keep-alive PINGs. Package.json's "browser" field replaces this module with transport-browser.js.
 */
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import type { EndpointTransport, TransportSettings } from "./endpoint-transport.js";
import { EndpointUnavailableError } from "./errors.js";

/** createDefaultTransport makes the HTTP/2 transport for one endpoint. */
export function createDefaultTransport(settings: TransportSettings): EndpointTransport {
  const tls = settings.tls;
  const nodeOptions =
    tls === undefined
      ? {}
      : {
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          servername: tls.servername,
          rejectUnauthorized: tls.insecureSkipVerify !== true,
        };
  const sessionManager = new Http2SessionManager(
    settings.baseUrl,
    {
      pingIntervalMs: settings.pingIntervalMs,
      pingTimeoutMs: settings.pingTimeoutMs,
      pingIdleConnection: false,
    },
    // Buffer-compatible PEM values: node:tls accepts strings and Uint8Arrays alike.
    nodeOptions as never,
  );
  const common = { baseUrl: settings.baseUrl, httpVersion: "2" as const, sessionManager };
  const transport =
    settings.protocol === "grpc"
      ? createGrpcTransport(common)
      : settings.protocol === "grpc-web"
        ? createGrpcWebTransport(common)
        : createConnectTransport(common);
  return {
    transport,
    fullDuplex: true,
    async connect(timeoutMs: number): Promise<void> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      try {
        const state = await Promise.race([sessionManager.connect(), timedOut]);
        if (state === "timeout") {
          sessionManager.abort(new EndpointUnavailableError(`dial ${settings.baseUrl}: timed out`));
          throw new EndpointUnavailableError(`dial ${settings.baseUrl}: timed out after ${timeoutMs} ms`);
        }
        if (state === "error") {
          const cause = sessionManager.error();
          throw new EndpointUnavailableError(`dial ${settings.baseUrl}: ${String(cause)}`, undefined, {
            cause,
          });
        }
      } finally {
        clearTimeout(timer);
      }
    },
    close(): void {
      sessionManager.abort();
    },
  };
}
