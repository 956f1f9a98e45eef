import { AlarmType, type Member, type StatusResponse } from "@etcd-ts/proto/etcdserverpb";
import type { EtcdApi } from "../api/etcd-api.js";

/**
 * StatusSource says where a member's status came from: the member serving the page ("self"), the member's
 * own client URL ("direct"), or nowhere ("unreachable": the member is down, or the browser's same-origin
 * policy stopped the call because the member does not allow this page's origin, see etcd-ts's --cors).
 */
export type StatusSource = "self" | "direct" | "unreachable";

/** MemberRow is one member as the cluster view shows it. */
export interface MemberRow {
  member: Member;
  status: StatusResponse | undefined;
  source: StatusSource;
  /** error explains an unreachable member. */
  error: string;
  isLeader: boolean;
  alarms: string[];
}

/** ClusterSnapshot is everything the cluster view shows, fetched in one refresh. */
export interface ClusterSnapshot {
  clusterId: bigint;
  servingMemberId: bigint;
  leaderId: bigint;
  revision: bigint;
  members: MemberRow[];
  fetchedAt: Date;
}

/** MEMBER_STATUS_TIMEOUT_MS bounds the status call to each other member (a down member must not stall). */
export const MEMBER_STATUS_TIMEOUT_MS = 1_500;

/**
 * DirectStatus decides how other members are asked: `connect(url)` gives a client for a member's client
 * URL, or a string (the reason) to skip the member this time, e.g. because it just failed.
 */
export type DirectStatus = (clientUrl: string) => EtcdApi | string;

/**
 * fetchClusterSnapshot asks the serving member for the member list, its own status and the alarms, then
 * asks every other member for its status on its own client URL (through `direct`). The leader is the one
 * the serving member's status names, so it is known even when other members can't be reached. Members
 * are sorted by name.
 */
export async function fetchClusterSnapshot(api: EtcdApi, direct: DirectStatus): Promise<ClusterSnapshot> {
  const [list, self, alarms] = await Promise.all([
    api.cluster.memberList({ linearizable: false }),
    api.maintenance.status({}),
    api.maintenance.alarm({}),
  ]);
  const servingMemberId = self.header?.memberId ?? 0n;
  const alarmsOf = (id: bigint) =>
    alarms.alarms.filter((a) => a.memberID === id).map((a) => AlarmType[a.alarm] ?? String(a.alarm));
  const members = await Promise.all(
    list.members.map(async (member): Promise<MemberRow> => {
      const row = { member, isLeader: member.ID === self.leader, alarms: alarmsOf(member.ID) };
      if (member.ID === servingMemberId) return { ...row, status: self, source: "self", error: "" };
      const url = member.clientURLs[0];
      if (url === undefined)
        return { ...row, status: undefined, source: "unreachable", error: "not started" };
      const client = direct(url);
      if (typeof client === "string")
        return { ...row, status: undefined, source: "unreachable", error: client };
      try {
        const status = await client.maintenance.status({}, { timeoutMs: MEMBER_STATUS_TIMEOUT_MS });
        return { ...row, status, source: "direct", error: "" };
      } catch (err) {
        return { ...row, status: undefined, source: "unreachable", error: (err as Error).message };
      }
    }),
  );
  return {
    clusterId: self.header?.clusterId ?? 0n,
    servingMemberId,
    leaderId: self.leader,
    revision: self.header?.revision ?? 0n,
    members: members.sort((a, b) =>
      a.member.name < b.member.name ? -1 : a.member.name > b.member.name ? 1 : 0,
    ),
    fetchedAt: new Date(),
  };
}
