import { describe, expect, it } from "vitest";
import {
  clusterIdOf,
  decodeMember,
  encodeMember,
  memberIdOf,
  memberKey,
  parseInitialCluster,
  removedMemberId,
  removedMemberKey,
} from "./membership.js";

describe("membership ids", () => {
  it("derives a stable member id from peer URLs and token, independent of URL order", () => {
    const a = memberIdOf(["http://10.0.0.1:2380", "http://10.0.0.2:2380"], "etcd-cluster");
    const b = memberIdOf(["http://10.0.0.2:2380", "http://10.0.0.1:2380"], "etcd-cluster");
    expect(a).toBe(b);
    expect(memberIdOf(["http://10.0.0.1:2380"], "other-token")).not.toBe(
      memberIdOf(["http://10.0.0.1:2380"], "etcd-cluster"),
    );
    expect(memberIdOf(["http://10.0.0.1:2380"], "t", 1)).not.toBe(
      memberIdOf(["http://10.0.0.1:2380"], "t", 2),
    );
  });

  it("derives the cluster id from the member ids in any order", () => {
    expect(clusterIdOf([1n, 2n, 3n])).toBe(clusterIdOf([3n, 1n, 2n]));
    expect(clusterIdOf([1n, 2n])).not.toBe(clusterIdOf([1n, 2n, 3n]));
  });

  it("parses --initial-cluster and rejects one without this member", () => {
    const parsed = parseInitialCluster("a=http://h1:2380,b=http://h2:2380,a=http://h1b:2380", "a", []);
    expect(parsed.get("a")).toEqual(["http://h1:2380", "http://h1b:2380"]);
    expect(parsed.get("b")).toEqual(["http://h2:2380"]);
    expect(() => parseInitialCluster("b=http://h2:2380", "a", [])).toThrow(/no member named/);
    expect(() => parseInitialCluster("nonsense", "a", [])).toThrow(/not name=url/);
    expect(parseInitialCluster("", "solo", ["http://x:2380"]).get("solo")).toEqual(["http://x:2380"]);
  });

  it("round-trips a stored member", () => {
    const member = {
      id: 0xfedcba9876543210n,
      name: "m",
      peerUrls: ["http://p"],
      clientUrls: ["http://c"],
      isLearner: true,
    };
    expect(decodeMember(encodeMember(member))).toEqual(member);
  });
});

describe("member keys", () => {
  it("tells a removed member's marker from a member's key in the shared sublevel", () => {
    const id = 0x8e9e05c52164694dn;
    expect(removedMemberId(removedMemberKey(id))).toBe(id);
    expect(removedMemberId(memberKey(id))).toBeUndefined();
    // A 9-byte key is a marker only with its leading "r".
    const other = removedMemberKey(id);
    other[0] = 0;
    expect(removedMemberId(other)).toBeUndefined();
    // Read back from a larger buffer (LevelDB hands out views).
    const view = new Uint8Array(20);
    view.set(removedMemberKey(id), 5);
    expect(removedMemberId(view.subarray(5, 14))).toBe(id);
  });
});
