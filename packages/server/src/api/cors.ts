import type http from "node:http";
import type http2 from "node:http2";

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;
type Handler = (req: Req, res: Res) => void;

/** CORS_PREFLIGHT_MAX_AGE_SECONDS is how long a browser may cache a preflight answer. */
export const CORS_PREFLIGHT_MAX_AGE_SECONDS = 7200;

/**
 * Response headers a browser script may read: the gRPC-Web and Connect status lives in them. Request
 * headers are echoed from the preflight, so custom ones (`token`, `authorization`, `connect-*`) pass.
 */
const exposedHeaders = ["grpc-status", "grpc-message", "grpc-status-details-bin", "content-type"].join(", ");

/**
 * originAllowed is etcd's `--cors` rule: an empty list or one holding "*" allows every origin, otherwise
 * the origin must be listed exactly (scheme, host and port).
 */
export function originAllowed(allowed: readonly string[], origin: string): boolean {
  return allowed.length === 0 || allowed.includes("*") || allowed.includes(origin);
}

/**
 * withCors lets browser pages from allowed origins call the client port (the dashboard served by one
 * member asks the others for their status; gRPC-Web, Connect and the JSON gateway all go through here).
 * Requests without an `Origin` header (gRPC clients, curl, etcdctl) pass untouched. No credentials are
 * allowed: etcd's auth token travels in a header a script sets on purpose, never in a cookie, so a page
 * from another origin cannot act with a user's rights by accident.
 */
export function withCors(allowed: readonly string[], next: Handler): Handler {
  return (req, res) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string" || origin === "") return next(req, res);
    if (!originAllowed(allowed, origin)) {
      if (req.method === "OPTIONS") {
        res.writeHead(403, { "content-type": "text/plain" });
        res.end("origin not allowed\n");
        return;
      }
      return next(req, res);
    }
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("vary", "Origin");
    res.setHeader("access-control-expose-headers", exposedHeaders);
    const preflightMethod = req.headers["access-control-request-method"];
    if (req.method === "OPTIONS" && typeof preflightMethod === "string") {
      const requested = req.headers["access-control-request-headers"];
      res.writeHead(204, {
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": typeof requested === "string" ? requested : "",
        "access-control-max-age": String(CORS_PREFLIGHT_MAX_AGE_SECONDS),
      });
      res.end();
      return;
    }
    next(req, res);
  };
}
