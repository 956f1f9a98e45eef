import { createHash } from "node:crypto";
import { assert } from "./assert.js";

/** MemberInfo is one member of the cluster, as MemberList reports it. */
export interface MemberInfo {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

function u64(hash: Buffer): bigint {
  return hash.readBigUInt64BE(0);
}

/**
 * memberIdOf derives a member id from its peer URLs and the cluster token, like etcd: the first 8 bytes of
 * SHA-1 over the sorted URLs and the token (plus a time for members added at runtime, so a re-added member
 * gets a new id). Stable across restarts.
 */
export function memberIdOf(peerUrls: readonly string[], token: string, addedAtMs?: number): bigint {
  assert(peerUrls.length > 0, "a member has at least one peer URL");
  const parts = [...peerUrls].sort().join("") + token + (addedAtMs === undefined ? "" : String(addedAtMs));
  return u64(createHash("sha1").update(parts).digest());
}

/** clusterIdOf derives the cluster id from its initial members' ids (order does not matter). */
export function clusterIdOf(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => {
    buf.writeBigUInt64BE(id, 8 * i);
  });
  return u64(createHash("sha1").update(buf).digest());
}

/**
 * parseInitialCluster reads `--initial-cluster` (`name=url,name=url2,other=url3`) into name -> peer URLs.
 * Empty means just this member with its advertised peer URLs.
 */
export function parseInitialCluster(
  spec: string,
  selfName: string,
  selfPeerUrls: readonly string[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (spec.trim() === "") {
    out.set(selfName, [...selfPeerUrls]);
    return out;
  }
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`--initial-cluster: "${part}" is not name=url`);
    const name = part.slice(0, eq).trim();
    const url = part.slice(eq + 1).trim();
    const urls = out.get(name) ?? [];
    urls.push(url);
    out.set(name, urls);
  }
  if (!out.has(selfName))
    throw new Error(`--initial-cluster has no member named ${JSON.stringify(selfName)}`);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** encodeMember / decodeMember store a member in the backend's `members` sublevel as JSON. */
export function encodeMember(member: MemberInfo): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      id: member.id.toString(16),
      name: member.name,
      peerUrls: member.peerUrls,
      clientUrls: member.clientUrls,
      isLearner: member.isLearner,
    }),
  );
}

export function decodeMember(bytes: Uint8Array): MemberInfo {
  const raw = JSON.parse(decoder.decode(bytes)) as {
    id: string;
    name: string;
    peerUrls: string[];
    clientUrls: string[];
    isLearner: boolean;
  };
  return {
    id: BigInt(`0x${raw.id}`),
    name: raw.name,
    peerUrls: raw.peerUrls,
    clientUrls: raw.clientUrls,
    isLearner: raw.isLearner,
  };
}

/** memberKey is the backend key of a member: its id, 8 bytes big-endian. */
export function memberKey(id: bigint): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, id, false);
  return key;
}

/** The first byte of a removed member's key in the members sublevel (member keys are 8 bytes, these 9). */
const removedMarker = 0x72; // "r"

/**
 * removedMemberKey is the backend key that records a removed member (empty value; its id never comes back).
 * It shares the members sublevel with memberKey's keys: readers tell them apart with removedMemberId.
 */
export function removedMemberKey(id: bigint): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = removedMarker;
  new DataView(key.buffer).setBigUint64(1, id, false);
  return key;
}

/** removedMemberId is the id a removedMemberKey records, or undefined for any other key. */
export function removedMemberId(key: Uint8Array): bigint | undefined {
  if (key.length !== 9 || key[0] !== removedMarker) return undefined;
  return new DataView(key.buffer, key.byteOffset + 1, 8).getBigUint64(0, false);
}
