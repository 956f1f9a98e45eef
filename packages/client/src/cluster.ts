/** The Cluster API (`client.cluster`): list, add, remove, update and promote members. */
import { Cluster, type Member as MemberPb } from "@etcd-ts/proto/etcdserverpb";
import type { CallSettings, Connection } from "./connection.js";
import { type ResponseHeader, toHeader } from "./key-value.js";

/** Member is one member of the cluster. */
export interface Member {
  id: bigint;
  /** name is empty for a member that was added but has not started yet. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** MemberListResult is the answer to memberList and the membership changes. */
export interface MemberListResult {
  header: ResponseHeader;
  members: Member[];
}

function toMember(member: MemberPb): Member {
  return {
    id: member.ID,
    name: member.name,
    peerUrls: member.peerURLs,
    clientUrls: member.clientURLs,
    isLearner: member.isLearner,
  };
}

/** ClusterClient is the Cluster API. */
export class ClusterClient {
  private readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  /** memberList lists the members (linearizable: through a quorum read). */
  async memberList(options: { linearizable?: boolean } & CallSettings = {}): Promise<MemberListResult> {
    const response = await this.connection.unary(true, options, (endpoint, call) =>
      endpoint.client(Cluster).memberList({ linearizable: options.linearizable ?? false }, call),
    );
    return { header: toHeader(response.header), members: response.members.map(toMember) };
  }

  /** memberAdd adds a member (a learner with isLearner) with the given peer URLs. */
  async memberAdd(
    peerUrls: string[],
    options: { isLearner?: boolean } & CallSettings = {},
  ): Promise<MemberListResult & { member: Member }> {
    const response = await this.connection.unary(false, options, (endpoint, call) =>
      endpoint.client(Cluster).memberAdd({ peerURLs: peerUrls, isLearner: options.isLearner ?? false }, call),
    );
    const member = response.member === undefined ? undefined : toMember(response.member);
    if (member === undefined) throw new Error("etcd-ts client: MemberAdd answered without the member");
    return { header: toHeader(response.header), member, members: response.members.map(toMember) };
  }

  /** memberRemove removes a member. */
  async memberRemove(id: bigint, settings?: CallSettings): Promise<MemberListResult> {
    const response = await this.connection.unary(false, settings, (endpoint, call) =>
      endpoint.client(Cluster).memberRemove({ ID: id }, call),
    );
    return { header: toHeader(response.header), members: response.members.map(toMember) };
  }

  /** memberUpdate changes a member's peer URLs. */
  async memberUpdate(id: bigint, peerUrls: string[], settings?: CallSettings): Promise<MemberListResult> {
    const response = await this.connection.unary(false, settings, (endpoint, call) =>
      endpoint.client(Cluster).memberUpdate({ ID: id, peerURLs: peerUrls }, call),
    );
    return { header: toHeader(response.header), members: response.members.map(toMember) };
  }

  /** memberPromote makes a learner a voting member. */
  async memberPromote(id: bigint, settings?: CallSettings): Promise<MemberListResult> {
    const response = await this.connection.unary(false, settings, (endpoint, call) =>
      endpoint.client(Cluster).memberPromote({ ID: id }, call),
    );
    return { header: toHeader(response.header), members: response.members.map(toMember) };
  }
}
