import { UsageError } from "./errors.js";

/**
 * endpointUrl turns an etcd endpoint as `--endpoints` takes it ("127.0.0.1:2379", "http://127.0.0.1:2379")
 * into a base URL for an HTTP/2 gRPC transport.
 */
export function endpointUrl(endpoint: string): string {
  const trimmed = endpoint.trim();
  if (trimmed === "") throw new UsageError("empty endpoint in --endpoints");
  if (trimmed.startsWith("https://")) {
    throw new UsageError(`TLS endpoints are not supported by etcd-ts-bench yet: ${trimmed}`);
  }
  const url = trimmed.startsWith("http://") ? trimmed : `http://${trimmed}`;
  return url.replace(/\/+$/, "");
}

/** parseEndpoints splits a comma-separated `--endpoints` value into base URLs. */
export function parseEndpoints(value: string): string[] {
  const endpoints = value
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (endpoints.length === 0) throw new UsageError("--endpoints must name at least one endpoint");
  return endpoints.map(endpointUrl);
}
