import http2 from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { Listener } from "./listener.js";

const listeners: Listener[] = [];
afterEach(async () => {
  for (const l of listeners.splice(0)) await l.close();
});

async function serve(options: {
  rewriteAuthority?: boolean;
  receiveWindowBytes?: number;
}): Promise<Listener> {
  const listener = new Listener(
    (req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`${req.httpVersion} ${req.method} ${req.url}`);
    },
    undefined,
    options,
  );
  await listener.listen("127.0.0.1", 0);
  listeners.push(listener);
  return listener;
}

/** h2 sends requests on one HTTP/2 session and returns each body, or the error that ended its stream. */
async function h2(port: number, paths: string[], authority?: string): Promise<string[]> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  try {
    const out: string[] = [];
    for (const path of paths) {
      out.push(
        await new Promise<string>((resolve) => {
          const req = session.request({
            ":path": path,
            ...(authority === undefined ? {} : { ":authority": authority }),
          });
          let body = "";
          req.setEncoding("utf8");
          req.on("data", (d: string) => {
            body += d;
          });
          req.on("end", () => resolve(body));
          req.on("error", (err: Error) => resolve(`error: ${err.message}`));
        }),
      );
    }
    return out;
  } finally {
    session.close();
  }
}

describe("Listener", () => {
  for (const rewriteAuthority of [true, false]) {
    it(`serves HTTP/2 and HTTP/1.1 on one port (authority rewriting ${rewriteAuthority ? "on" : "off"})`, async () => {
      const listener = await serve({ rewriteAuthority });
      expect(await h2(listener.port, ["/a", "/b", "/c"])).toEqual(["2.0 GET /a", "2.0 GET /b", "2.0 GET /c"]);
      const res = await fetch(`http://127.0.0.1:${listener.port}/h1`);
      expect(await res.text()).toBe("1.1 GET /h1");
    });
  }

  it("takes etcdctl 3.4's `http://host:port` :authority only with rewriting on (the client port's)", async () => {
    const on = await serve({});
    const off = await serve({ rewriteAuthority: false });
    const authority = (port: number) => `http://127.0.0.1:${port}`;
    expect(await h2(on.port, ["/x", "/y"], authority(on.port))).toEqual(["2.0 GET /x", "2.0 GET /y"]);
    const [refused] = await h2(off.port, ["/x"], authority(off.port));
    expect(refused).toMatch(/^error: /);
  });

  it("gives HTTP/2 clients the receive window it is told (per stream and per connection), 64 KiB by default", async () => {
    const windows = async (listener: Listener) => {
      const session = http2.connect(`http://127.0.0.1:${listener.port}`);
      session.on("error", () => {});
      try {
        // One request round trip: the server's SETTINGS and WINDOW_UPDATE have arrived by its answer.
        await new Promise<void>((resolve, reject) => {
          const req = session.request({ ":path": "/w" });
          req.on("error", reject);
          req.resume();
          req.on("end", () => resolve());
        });
        return [session.remoteSettings.initialWindowSize, session.state.remoteWindowSize];
      } finally {
        session.close();
      }
    };
    const wide = await serve({ rewriteAuthority: false, receiveWindowBytes: 4 * 1024 * 1024 });
    expect(await windows(wide)).toEqual([4 * 1024 * 1024, 4 * 1024 * 1024]);
    expect(await windows(await serve({ rewriteAuthority: false }))).toEqual([65_535, 65_535]);
    expect(() => new Listener(() => {}, undefined, { receiveWindowBytes: 1000 })).toThrow(/window/);
  });
});
