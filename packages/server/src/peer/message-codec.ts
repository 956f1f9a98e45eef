import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type SnapshotSchema,
  type Message as WireMessage,
  MessageSchema as WireMessageSchema,
} from "@etcd-ts/proto/raft";
import type { Entry, EntryType, Message, MessageType, Snapshot } from "@etcd-ts/raft";
import { assert } from "../assert.js";

/**
 * The raft package keeps its messages as plain objects (numbers for terms and indexes); the peer protocol
 * carries them as etcdts.raft.v1.Message. These two functions are the one place that converts.
 */
export function toWireMessage(m: Message): WireMessage {
  return create(WireMessageSchema, {
    type: m.type as number,
    to: m.to,
    from: m.from,
    term: BigInt(m.term),
    logTerm: BigInt(m.logTerm),
    index: BigInt(m.index),
    entries: m.entries.map((e) => ({
      term: BigInt(e.term),
      index: BigInt(e.index),
      type: e.type as number,
      data: e.data,
    })),
    commit: BigInt(m.commit),
    ...(m.snapshot === undefined ? {} : { snapshot: toWireSnapshot(m.snapshot) }),
    reject: m.reject,
    rejectHint: BigInt(m.rejectHint),
    context: m.context,
  });
}

function toWireSnapshot(s: Snapshot): MessageInitShape<typeof SnapshotSchema> {
  return {
    data: s.data,
    metadata: {
      index: BigInt(s.metadata.index),
      term: BigInt(s.metadata.term),
      confState: { ...s.metadata.confState },
    },
  };
}

/** fromWireMessage converts a received message, checking that every number fits a safe integer. */
export function fromWireMessage(w: WireMessage): Message {
  const message: Message = {
    type: w.type as number as MessageType,
    to: w.to,
    from: w.from,
    term: safe(w.term),
    logTerm: safe(w.logTerm),
    index: safe(w.index),
    entries: w.entries.map(
      (e): Entry => ({
        term: safe(e.term),
        index: safe(e.index),
        type: e.type as number as EntryType,
        data: e.data,
      }),
    ),
    commit: safe(w.commit),
    reject: w.reject,
    rejectHint: safe(w.rejectHint),
    context: w.context,
  };
  if (w.snapshot !== undefined) {
    const md = w.snapshot.metadata;
    const cs = md?.confState;
    message.snapshot = {
      data: w.snapshot.data,
      metadata: {
        index: safe(md?.index ?? 0n),
        term: safe(md?.term ?? 0n),
        confState: {
          voters: [...(cs?.voters ?? [])],
          learners: [...(cs?.learners ?? [])],
          votersOutgoing: [...(cs?.votersOutgoing ?? [])],
          learnersNext: [...(cs?.learnersNext ?? [])],
          autoLeave: cs?.autoLeave ?? false,
        },
      },
    };
  }
  return message;
}

function safe(value: bigint): number {
  assert(value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER), "raft number exceeds 2^53");
  return Number(value);
}
