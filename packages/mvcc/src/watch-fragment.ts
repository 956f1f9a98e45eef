import { create, toBinary } from "@bufbuild/protobuf";
import { type WatchResponse, WatchResponseSchema } from "@etcd-ts/proto/etcdserverpb";
import { EventSchema } from "@etcd-ts/proto/mvccpb";

/**
 * fragmentWatchResponse splits a response whose encoding exceeds `maxBytes` into pieces for a watcher created
 * with `fragment: true`: each piece carries as many whole events as fit (at least one), the same header and
 * watch id, and `fragment: true` on every piece but the last. A response that fits, or has fewer than two
 * events, is returned as it is.
 */
export function fragmentWatchResponse(response: WatchResponse, maxBytes: number): WatchResponse[] {
  if (response.events.length < 2 || toBinary(WatchResponseSchema, response).length <= maxBytes) {
    return [response];
  }
  const base = toBinary(WatchResponseSchema, { ...response, events: [] }).length;
  const pieces: WatchResponse[] = [];
  let current: WatchResponse | undefined;
  let size = base;
  for (const event of response.events) {
    // An event is field 11, length-delimited: one tag byte and at most 5 length bytes on top of its encoding.
    const eventBytes = toBinary(EventSchema, event).length + 6;
    if (current !== undefined && size + eventBytes > maxBytes) {
      pieces.push(current);
      current = undefined;
    }
    if (current === undefined) {
      current = create(WatchResponseSchema, {
        header: response.header,
        watchId: response.watchId,
        fragment: true,
        events: [],
      });
      size = base;
    }
    current.events.push(event);
    size += eventBytes;
  }
  if (current !== undefined) pieces.push(current);
  const last = pieces[pieces.length - 1];
  if (last !== undefined) last.fragment = false;
  return pieces;
}
