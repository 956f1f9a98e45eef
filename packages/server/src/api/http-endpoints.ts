import type http from "node:http";
import type http2 from "node:http2";
import type { HttpEndpoint } from "./router.js";

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** HealthSource is what the health endpoints ask the member. */
export interface HealthSource {
  /** hasLeader tells whether raft knows a leader. */
  hasLeader(): boolean;
  /** alarms lists the active alarm names (NOSPACE, CORRUPT). */
  alarms(): string[];
  /** linearizableRead resolves when a quorum confirmed the member is current (rejects otherwise). */
  linearizableRead(): Promise<void>;
  /** versions are the server and cluster versions for /version. */
  versions(): { etcdserver: string; etcdcluster: string; storage: string };
}

function send(res: Res, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function query(req: Req): URLSearchParams {
  return new URL(req.url ?? "/", "http://localhost").searchParams;
}

async function check(source: HealthSource, req: Req): Promise<string> {
  const params = query(req);
  const excluded = new Set(params.getAll("exclude"));
  for (const alarm of source.alarms()) {
    if (!excluded.has(alarm)) return `ALARM ${alarm}`;
  }
  if (!source.hasLeader()) return "RAFT NO LEADER";
  if (params.get("serializable") !== "true") {
    try {
      await source.linearizableRead();
    } catch (err) {
      return `QGET ERROR:${(err as Error).message}`;
    }
  }
  return "";
}

/**
 * healthEndpoints serves etcd's HTTP health endpoints: `/health` (`{"health":"true","reason":""}`, 503
 * when unhealthy; `?exclude=NOSPACE`, `?serializable=true`), `/livez`, `/readyz` (plain `ok`), and
 * `/version`.
 */
export function healthEndpoints(source: HealthSource): HttpEndpoint {
  return (req, res) => {
    const pathname = (req.url ?? "/").split("?")[0];
    switch (pathname) {
      case "/health":
        void check(source, req).then((reason) =>
          send(res, reason === "" ? 200 : 503, { health: reason === "" ? "true" : "false", reason }),
        );
        return true;
      case "/livez":
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok\n");
        return true;
      case "/readyz":
        void check(source, req).then((reason) => {
          res.writeHead(reason === "" ? 200 : 503, { "content-type": "text/plain" });
          res.end(reason === "" ? "ok\n" : `${reason}\n`);
        });
        return true;
      case "/version":
        send(res, 200, source.versions());
        return true;
      default:
        return false;
    }
  };
}
