import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { WatchRequestSchema, type WatchResponse, WatchResponseSchema } from "@etcd-ts/proto/etcdserverpb";

/** WatchTarget is the key range to watch, from a revision (0 = from now). */
export interface WatchTarget {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  startRevision: bigint;
}

/**
 * openWatchStream opens one etcd watch and calls `onResponse` for every WatchResponse until the stream
 * ends (resolves) or fails (rejects). Abort `signal` to stop it.
 *
 * Why not the Connect client: Watch is a bidirectional stream, and browsers' fetch cannot stream a request
 * body, so connect-web only offers unary and server-streaming calls. etcd's JSON gateway (`POST /v3/watch`,
 * served by etcd-ts on the same port) keeps a bidirectional stream open after one create request and
 * streams newline-delimited `{"result": WatchResponse}` objects back, which is all a read-only watch needs.
 * The request and the responses still go through the generated etcdserverpb schemas.
 */
export async function openWatchStream(
  baseUrl: string,
  target: WatchTarget,
  onResponse: (response: WatchResponse) => void,
  signal: AbortSignal,
  token?: string,
): Promise<void> {
  const request = create(WatchRequestSchema, {
    requestUnion: {
      case: "createRequest",
      value: {
        key: target.key,
        rangeEnd: target.rangeEnd,
        startRevision: target.startRevision,
        prevKv: true,
      },
    },
  });
  const res = await fetch(new URL("/v3/watch", baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: token }) },
    body: JSON.stringify(toJson(WatchRequestSchema, request)),
    signal,
  });
  if (!res.ok || res.body === null) {
    throw new Error(`watch failed: HTTP ${res.status} ${await res.text().catch(() => "")}`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffered += value;
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
      if (line === "") continue;
      const parsed = JSON.parse(line) as { result?: JsonValue; error?: { message?: string } };
      if (parsed.error !== undefined) throw new Error(`watch failed: ${parsed.error.message ?? line}`);
      if (parsed.result !== undefined) {
        onResponse(fromJson(WatchResponseSchema, parsed.result, { ignoreUnknownFields: true }));
      }
    }
  }
}
