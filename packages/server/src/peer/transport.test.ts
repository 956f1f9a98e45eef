import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { EntryType, MessageType, newMessage } from "@etcd-ts/raft";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { PeerTransport } from "./transport.js";

/**
 * A stand-in peer: an HTTP/2 server that counts the message streams opened to it and can misbehave the
 * way a stopping member does.
 */
async function fakePeer(onStream: (stream: http2.ServerHttp2Stream, count: number) => void) {
  let streams = 0;
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  server.on("stream", (stream) => {
    streams++;
    stream.on("error", () => {});
    onStream(stream, streams);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams: () => streams,
    sessions,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const transports: PeerTransport[] = [];
const peers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  for (const p of peers.splice(0)) await p.close();
});

function transportTo(url: string, unreachable: bigint[]): PeerTransport {
  const transport = new PeerTransport({
    clusterId: 1n,
    memberId: 1n,
    logger: pino({ level: "silent" }),
    hooks: {
      reportUnreachable: (id) => unreachable.push(id),
      reportSnapshot: () => {},
      snapshotData: async function* () {},
      onRemoved: () => {},
    },
  });
  transport.upsertPeer(2n, [url]);
  transports.push(transport);
  return transport;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("PeerTransport", () => {
  it("re-opens a stream whose peer went away without answering it", async () => {
    // The first stream is accepted and then its whole connection destroyed (a member stopping); later
    // streams are kept open. The link must notice and open a second stream.
    const peer = await fakePeer((stream, count) => {
      if (count === 1) setTimeout(() => stream.session?.destroy(), 100);
    });
    peers.push(peer);
    const unreachable: bigint[] = [];
    transportTo(peer.url, unreachable);
    await until(() => peer.streams() >= 2, 10_000);
    expect(unreachable).toContain(2n);
  });

  it("re-opens a stream that the peer reset without an error code and without an answer", async () => {
    // RST_STREAM(NO_ERROR) before any response: connect-node sees no error, and no response ever comes.
    const peer = await fakePeer((stream, count) => {
      if (count === 1) setTimeout(() => stream.close(http2.constants.NGHTTP2_NO_ERROR), 100);
    });
    peers.push(peer);
    const unreachable: bigint[] = [];
    transportTo(peer.url, unreachable);
    await until(() => peer.streams() >= 2, 10_000);
    expect(unreachable).toContain(2n);
  });

  it("abandons a stream that stops taking messages (stalled) and opens a new one", async () => {
    // The first stream's response never comes and its flow-control window never opens: its writes stall.
    const peer = await fakePeer((stream, count) => {
      if (count === 1) stream.pause();
    });
    peers.push(peer);
    const unreachable: bigint[] = [];
    const transport = transportTo(peer.url, unreachable);
    // Enough traffic to fill the first stream's window.
    const big = new Uint8Array(64 * 1024);
    const timer = setInterval(() => {
      transport.send([
        newMessage({
          type: MessageType.MsgApp,
          from: 1n,
          to: 2n,
          term: 1,
          entries: [{ term: 1, index: 1, type: EntryType.Normal, data: big }],
        }),
      ]);
    }, 50);
    try {
      await until(() => peer.streams() >= 2, 15_000);
    } finally {
      clearInterval(timer);
    }
    expect(unreachable).toContain(2n);
  });
});
