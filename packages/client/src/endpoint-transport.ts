/**
 * The transport seam. The client core never imports a concrete transport: Node uses gRPC over HTTP/2 from
 * connect-node (transport-node.ts); a browser bundle gets connect-web's fetch transports instead, through the
 * package.json "browser" field that swaps transport-node.js for transport-browser.js.
 */
import type { Transport } from "@connectrpc/connect";

/** Protocol is the wire protocol to speak: gRPC (real etcd and etcd-ts), or gRPC-Web / Connect (etcd-ts only). */
export type Protocol = "grpc" | "grpc-web" | "connect";

/** TlsOptions configures TLS (and mTLS when cert and key are given) towards https endpoints. */
export interface TlsOptions {
  /** ca is the PEM of the CA that signed the servers' certificates (default: the system roots). */
  ca?: string | Uint8Array;
  /** cert is the PEM of the client certificate (mTLS). */
  cert?: string | Uint8Array;
  /** key is the PEM of the client certificate's private key (mTLS). */
  key?: string | Uint8Array;
  /** servername overrides the name checked against the server certificate. */
  servername?: string;
  /** insecureSkipVerify accepts any server certificate (tests only). */
  insecureSkipVerify?: boolean;
}

/** TransportSettings is what a {@link TransportFactory} is given for one endpoint. */
export interface TransportSettings {
  /** baseUrl is the endpoint as a URL, e.g. "http://127.0.0.1:2379". */
  baseUrl: string;
  protocol: Protocol;
  tls?: TlsOptions;
  /** pingIntervalMs sends HTTP/2 PINGs on a quiet connection so a dead peer is noticed (Node only). */
  pingIntervalMs: number;
  /** pingTimeoutMs closes the connection when a PING is not answered in time (Node only). */
  pingTimeoutMs: number;
}

/** EndpointTransport is one endpoint's Connect transport plus the controls the client needs. */
export interface EndpointTransport {
  readonly transport: Transport;
  /**
   * fullDuplex is true when a bidirectional stream can send after it has started receiving (HTTP/2 in Node).
   * Browsers' fetch is half-duplex: then each watch gets its own stream.
   */
  readonly fullDuplex: boolean;
  /** connect opens the connection within `timeoutMs`; it rejects with EndpointUnavailableError otherwise. */
  connect(timeoutMs: number): Promise<void>;
  /** close drops the connection and every stream on it. */
  close(): void;
}

/** TransportFactory makes the transport for one endpoint. */
export type TransportFactory = (settings: TransportSettings) => EndpointTransport;
