import { type Message, MessageType } from "@etcd-ts/raft";

/** MessageKind groups raft message types by what the playground's legend shows. */
export type MessageKind = "vote" | "append" | "heartbeat" | "proposal" | "other";

/** messageKind classifies a message for its color. */
export function messageKind(m: Message): MessageKind {
  switch (m.type) {
    case MessageType.MsgVote:
    case MessageType.MsgVoteResp:
    case MessageType.MsgPreVote:
    case MessageType.MsgPreVoteResp:
      return "vote";
    case MessageType.MsgApp:
    case MessageType.MsgAppResp:
    case MessageType.MsgSnap:
      return "append";
    case MessageType.MsgHeartbeat:
    case MessageType.MsgHeartbeatResp:
      return "heartbeat";
    case MessageType.MsgProp:
      return "proposal";
    default:
      return "other";
  }
}

/** isResponse tells whether a message answers another (drawn hollow). */
export function isResponse(m: Message): boolean {
  return (
    m.type === MessageType.MsgVoteResp ||
    m.type === MessageType.MsgPreVoteResp ||
    m.type === MessageType.MsgAppResp ||
    m.type === MessageType.MsgHeartbeatResp ||
    m.type === MessageType.MsgReadIndexResp
  );
}

/** TERM_COLORS are distinct, readable colors; consecutive terms never share one. */
const TERM_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#9c755f", "#edc948"];

/** termColor gives each term its own color, so log entries of one term share a color. */
export function termColor(term: number): string {
  return TERM_COLORS[term % TERM_COLORS.length]!;
}
