/**
 * The Maintenance API (`client.maintenance`). Most calls are about one member: pin them with
 * `{ endpoint: "host:port" }` (otherwise the client's current endpoint answers).
 */
import { AlarmRequest_AlarmAction, AlarmType, Maintenance } from "@etcd-ts/proto/etcdserverpb";
import type { CallSettings, Connection } from "./connection.js";
import { type ResponseHeader, toHeader } from "./key-value.js";
import type { RevisionLike } from "./kv.js";
import { toRevision } from "./kv.js";

/** Status is one member's status. */
export interface Status {
  header: ResponseHeader;
  version: string;
  dbSizeBytes: number;
  dbSizeInUseBytes: number;
  /** leader is the member ID of the leader this member knows (0n: none). */
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  isLearner: boolean;
}

/** AlarmName is an alarm kind. */
export type AlarmName = "NOSPACE" | "CORRUPT";

/** Alarm is one raised alarm. */
export interface Alarm {
  memberId: bigint;
  alarm: AlarmName;
}

/** HashKV is a member's hash of its key-value store up to a revision. */
export interface HashKV {
  header: ResponseHeader;
  hash: number;
  compactRevision: bigint;
  hashRevision: bigint;
}

const alarmTypes: Record<AlarmName, AlarmType> = { NOSPACE: AlarmType.NOSPACE, CORRUPT: AlarmType.CORRUPT };

/** MaintenanceClient is the Maintenance API. */
export class MaintenanceClient {
  private readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  /** status reports a member's version, sizes, leader and raft position. */
  async status(settings?: CallSettings): Promise<Status> {
    const r = await this.connection.unary(true, settings, (endpoint, call) =>
      endpoint.client(Maintenance).status({}, call),
    );
    return {
      header: toHeader(r.header),
      version: r.version,
      dbSizeBytes: Number(r.dbSize),
      dbSizeInUseBytes: Number(r.dbSizeInUse),
      leader: r.leader,
      raftIndex: r.raftIndex,
      raftTerm: r.raftTerm,
      raftAppliedIndex: r.raftAppliedIndex,
      errors: r.errors,
      isLearner: r.isLearner,
    };
  }

  /** alarms lists the raised alarms. */
  async alarms(settings?: CallSettings): Promise<Alarm[]> {
    return this.alarm(AlarmRequest_AlarmAction.GET, 0n, AlarmType.NONE, settings);
  }

  /** activateAlarm raises an alarm for a member. */
  async activateAlarm(memberId: bigint, alarm: AlarmName, settings?: CallSettings): Promise<Alarm[]> {
    return this.alarm(AlarmRequest_AlarmAction.ACTIVATE, memberId, alarmTypes[alarm], settings);
  }

  /** disarm clears an alarm (memberId 0n and no alarm: every alarm). */
  async disarm(memberId = 0n, alarm?: AlarmName, settings?: CallSettings): Promise<Alarm[]> {
    const type = alarm === undefined ? AlarmType.NONE : alarmTypes[alarm];
    if (memberId === 0n && alarm === undefined) {
      const raised = await this.alarms(settings);
      const out: Alarm[] = [];
      for (const a of raised) {
        out.push(
          ...(await this.alarm(
            AlarmRequest_AlarmAction.DEACTIVATE,
            a.memberId,
            alarmTypes[a.alarm],
            settings,
          )),
        );
      }
      return out;
    }
    return this.alarm(AlarmRequest_AlarmAction.DEACTIVATE, memberId, type, settings);
  }

  private async alarm(
    action: AlarmRequest_AlarmAction,
    memberId: bigint,
    alarm: AlarmType,
    settings: CallSettings | undefined,
  ): Promise<Alarm[]> {
    const r = await this.connection.unary(
      action === AlarmRequest_AlarmAction.GET,
      settings,
      (endpoint, call) => endpoint.client(Maintenance).alarm({ action, memberID: memberId, alarm }, call),
    );
    return r.alarms.map((a) => ({
      memberId: a.memberID,
      alarm: a.alarm === AlarmType.CORRUPT ? "CORRUPT" : "NOSPACE",
    }));
  }

  /** defragment compacts a member's backend file (blocking that member while it runs). */
  async defragment(settings?: CallSettings): Promise<void> {
    await this.connection.unary(true, settings, (endpoint, call) =>
      endpoint.client(Maintenance).defragment({}, call),
    );
  }

  /** hashKV hashes a member's key-value store up to `revision` (0: latest). */
  async hashKV(revision: RevisionLike = 0, settings?: CallSettings): Promise<HashKV> {
    const r = await this.connection.unary(true, settings, (endpoint, call) =>
      endpoint.client(Maintenance).hashKV({ revision: toRevision(revision) }, call),
    );
    return {
      header: toHeader(r.header),
      hash: r.hash,
      compactRevision: r.compactRevision,
      hashRevision: r.hashRevision,
    };
  }

  /** moveLeader hands leadership to another member (call it on the leader). */
  async moveLeader(targetId: bigint, settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (endpoint, call) =>
      endpoint.client(Maintenance).moveLeader({ targetID: targetId }, call),
    );
  }

  /**
   * snapshot streams a member's backend snapshot as chunks of bytes (the last ones carry etcd's sha256
   * trailer, as etcd sends it). It is not retried: a broken stream rejects the iteration.
   */
  async *snapshot(settings?: CallSettings): AsyncGenerator<Uint8Array> {
    const signal = this.connection.linkSignal(settings?.signal);
    const target = await this.connection.streamTarget(signal);
    const endpoint =
      settings?.endpoint === undefined ? target.endpoint : this.connection.endpointFor(settings.endpoint);
    const options = target.options;
    if (settings?.timeoutMs !== undefined) options.timeoutMs = settings.timeoutMs;
    try {
      for await (const chunk of endpoint.client(Maintenance).snapshot({}, options)) {
        if (chunk.blob.length > 0) yield chunk.blob;
      }
    } catch (thrown) {
      throw this.connection.classify(thrown, signal, undefined);
    }
  }
}
