import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type * as pb from "@etcd-ts/proto/etcdserverpb";
import {
  ClusterInfoResponseSchema,
  type Peer,
  type PeerHeader,
  type SnapshotChunk,
} from "@etcd-ts/proto/internal/peer";
import { type Message, MessageType } from "@etcd-ts/raft";
import type { Logger } from "pino";
import type { MemberInfo } from "../membership.js";
import { fromWireMessage } from "./message-codec.js";
import { transportLimits } from "./transport.js";

/** PeerApi is what the peer service needs of the member. */
export interface PeerApi {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly logger: Logger;
  /** isRemoved tells whether `id` was a member that has been removed (its messages are refused). */
  isRemoved(id: bigint): boolean;
  /** step feeds a raft message from a peer. */
  step(message: Message): void;
  heardFrom(id: bigint): void;
  /** snapshotFile is where a received snapshot for raft `index` is kept until it is applied. */
  snapshotFile(index: number): string;
  members(): MemberInfo[];
  hashKvAt(revision: bigint): Promise<{ hash: number; compactRevision: bigint; hashRevision: bigint }>;
  leaseRenew(id: bigint): Promise<bigint>;
  leaseTimeToLive(req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse>;
  leaseLeases(): Promise<pb.LeaseLeasesResponse>;
  memberPromote(id: bigint): Promise<void>;
}

/** Messages that only a node generates for itself; a peer sending one is ignored. */
const localOnly = new Set<number>([
  MessageType.MsgHup,
  MessageType.MsgBeat,
  MessageType.MsgUnreachable,
  MessageType.MsgSnapStatus,
  MessageType.MsgCheckQuorum,
]);

/**
 * peerService implements the Peer service a member serves on its peer port: raft message streams, snapshot
 * transfers (written to a file, checked against their SHA-256, and only then handed to raft), hashes for
 * the corruption checks, cluster info for joining members, and the calls followers forward to the leader.
 * Every call's header must name our cluster (and us); removed members are refused.
 */
export function peerService(api: PeerApi): ServiceImpl<typeof Peer> {
  const check = (header: PeerHeader | undefined, allowUnknownCluster = false) => {
    if (header === undefined) throw new ConnectError("peer: missing header", Code.InvalidArgument);
    if (!(allowUnknownCluster && header.clusterId === 0n) && header.clusterId !== api.clusterId) {
      throw new ConnectError("etcdserver: cluster ID mismatch", Code.FailedPrecondition);
    }
    if (header.toMemberId !== 0n && header.toMemberId !== api.memberId) {
      throw new ConnectError(
        "peer: wrong member (the message was for another member id)",
        Code.FailedPrecondition,
      );
    }
    if (api.isRemoved(header.fromMemberId)) {
      throw new ConnectError("peer: the sending member was removed from the cluster", Code.PermissionDenied);
    }
  };
  return {
    async streamMessages(batches) {
      let received = 0n;
      for await (const batch of batches) {
        check(batch.header);
        const from = batch.header?.fromMemberId ?? 0n;
        api.heardFrom(from);
        received++;
        if (received === 1n) api.logger.debug({ peer: from.toString(16) }, "peer stream opened");
        for (const wire of batch.messages) {
          if (localOnly.has(wire.type)) continue;
          const message = fromWireMessage(wire);
          if (message.from !== from) continue;
          try {
            api.step(message);
          } catch (err) {
            api.logger.debug({ err: String(err), from: from.toString(16) }, "raft refused a peer message");
          }
        }
      }
      api.logger.debug({ received: received.toString() }, "peer stream closed by the sender");
      return { received };
    },

    async sendSnapshot(chunks) {
      let file: fs.promises.FileHandle | undefined;
      let partPath = "";
      try {
        let message: Message | undefined;
        const hash = createHash("sha256");
        let written = 0;
        let last: SnapshotChunk | undefined;
        for await (const chunk of chunks) {
          check(chunk.header);
          if (message === undefined) {
            if (chunk.message === undefined || chunk.message.type !== MessageType.MsgSnap) {
              throw new Error("the first snapshot chunk must carry the MsgSnap");
            }
            message = fromWireMessage(chunk.message);
            const index = message.snapshot?.metadata.index ?? 0;
            if (index <= 0) throw new Error("snapshot without an index");
            partPath = `${api.snapshotFile(index)}.part`;
            file = await fs.promises.open(partPath, "w", 0o600);
            continue;
          }
          if (Number(chunk.offset) !== written) throw new Error("snapshot chunk out of order");
          if (chunk.data.length > 0) {
            hash.update(chunk.data);
            await file?.write(chunk.data);
            written += chunk.data.length;
            if (written > Number.MAX_SAFE_INTEGER) throw new Error("snapshot too large");
          }
          last = chunk;
        }
        if (message === undefined || file === undefined || last === undefined) {
          throw new Error("snapshot stream ended early");
        }
        if (Number(last.totalBytes) !== written || !sameBytes(last.sha256, hash.digest())) {
          throw new Error("snapshot checksum mismatch");
        }
        await file.sync();
        await file.close();
        file = undefined;
        const index = message.snapshot?.metadata.index ?? 0;
        await fs.promises.rename(partPath, api.snapshotFile(index));
        await syncDir(path.dirname(partPath));
        api.logger.info({ index, bytes: written, from: message.from.toString(16) }, "received a snapshot");
        api.heardFrom(message.from);
        api.step(message);
        return { accepted: true, error: "" };
      } catch (err) {
        if (err instanceof ConnectError) throw err;
        api.logger.warn({ err: String(err) }, "refused a snapshot");
        return { accepted: false, error: String((err as Error).message ?? err) };
      } finally {
        if (file !== undefined) {
          await file.close();
          await fs.promises.rm(partPath, { force: true });
        }
      }
    },

    async hashKvAtRevision(req) {
      check(req.header);
      const result = await api.hashKvAt(req.revision);
      return {
        hash: result.hash,
        compactRevision: result.compactRevision,
        hashRevision: result.hashRevision,
      };
    },

    async clusterInfo(req) {
      check(req.header, true);
      return create(ClusterInfoResponseSchema, {
        clusterId: api.clusterId,
        memberId: api.memberId,
        members: api.members().map((m) => ({
          id: m.id,
          name: m.name,
          peerUrls: m.peerUrls,
          clientUrls: m.clientUrls,
          isLearner: m.isLearner,
        })),
        version: "3.6.0",
      });
    },

    async leaseRenew(req) {
      check(req.header);
      return { ttl: await api.leaseRenew(req.id) };
    },

    async leaseTimeToLive(req) {
      check(req.header);
      if (req.request === undefined) throw new ConnectError("peer: missing request", Code.InvalidArgument);
      return api.leaseTimeToLive(req.request);
    },

    async leaseLeases(req) {
      check(req.header);
      return api.leaseLeases();
    },

    async memberPromote(req) {
      check(req.header);
      await api.memberPromote(req.memberId);
      return {};
    },
  };
}

/** The peer service's read limit (snapshot chunks and raft batches). */
export const peerReadMaxBytes = transportLimits.maxMessageBytes;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
