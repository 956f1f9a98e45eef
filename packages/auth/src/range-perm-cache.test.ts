import { create } from "@bufbuild/protobuf";
import { Permission_Type, PermissionSchema } from "@etcd-ts/proto/authpb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type KeyInterval, permissionInterval, requestInterval } from "./key-interval.js";
import { IntervalSet, mergePermissions, RangePermCache } from "./range-perm-cache.js";

const b = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ivl = (start: string, end: string | null): KeyInterval => ({
  start: b(start),
  end: end === null ? null : b(end),
});

describe("IntervalSet", () => {
  it("merges overlapping and touching intervals, and never bridges a gap", () => {
    const set = new IntervalSet([ivl("a", "c"), ivl("c", "e"), ivl("b", "d"), ivl("x", "y")]);
    expect(set.size).toBe(2);
    expect(set.covers(ivl("a", "e"))).toBe(true);
    expect(set.covers(ivl("a", "e\0"))).toBe(false);
    expect(set.covers(ivl("d", "y"))).toBe(false);
    expect(set.covers(ivl("x", "x\0"))).toBe(true);
    expect(set.covers(ivl("x", null))).toBe(false);
  });

  it("handles unbounded intervals", () => {
    const set = new IntervalSet([ivl("m", null), ivl("a", "b"), ivl("p", "q")]);
    expect(set.size).toBe(2);
    expect(set.covers(ivl("n", null))).toBe(true);
    expect(set.covers(ivl("l", null))).toBe(false);
    expect(new IntervalSet([]).covers(ivl("a", "a\0"))).toBe(false);
  });

  it("agrees with a point-by-point check over a small key space", () => {
    const keys = ["", "\0", "a", "a\0", "ab", "b", "b\0", "ba", "c"];
    const keyArb = fc.constantFrom(...keys);
    const ivlArb = fc.record({ start: keyArb, end: fc.option(keyArb, { nil: null }) });
    fc.assert(
      fc.property(fc.array(ivlArb, { maxLength: 6 }), ivlArb, (members, query) => {
        const inIvl = (k: string, i: { start: string; end: string | null }) =>
          k >= i.start && (i.end === null || k < i.end);
        // Every key between two listed keys behaves like one of them, so checking the listed keys and each
        // key + "\0" is exhaustive for intervals whose ends are listed keys.
        const probes = keys.flatMap((k) => [k, `${k}\0`]);
        const expected = probes.every((k) => !inIvl(k, query) || members.some((m) => inIvl(k, m)));
        const set = new IntervalSet(members.map((m) => ivl(m.start, m.end)));
        expect(set.covers(ivl(query.start, query.end))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("intervals of permissions and requests", () => {
  it("maps etcd's (key, rangeEnd) forms", () => {
    expect(permissionInterval(b("k"), b(""))).toEqual(ivl("k", "k\0"));
    expect(permissionInterval(b("k"), b("\0"))).toEqual(ivl("k", null));
    expect(permissionInterval(b("a"), b("b"))).toEqual(ivl("a", "b"));
    expect(requestInterval(b(""), b("\0"))).toEqual(ivl("\0", null));
    expect(requestInterval(b("b"), b("a"))).toEqual(ivl("b", "b\0")); // backwards: checked as its key
  });
});

describe("mergePermissions and RangePermCache", () => {
  it("splits READ, WRITE and READWRITE", () => {
    const perms = mergePermissions([
      create(PermissionSchema, { permType: Permission_Type.READ, key: b("r") }),
      create(PermissionSchema, { permType: Permission_Type.WRITE, key: b("w") }),
      create(PermissionSchema, { permType: Permission_Type.READWRITE, key: b("x"), rangeEnd: b("\0") }),
    ]);
    expect(perms.read.covers(ivl("r", "r\0"))).toBe(true);
    expect(perms.write.covers(ivl("r", "r\0"))).toBe(false);
    expect(perms.write.covers(ivl("w", "w\0"))).toBe(true);
    expect(perms.read.covers(ivl("y", null))).toBe(true);
    expect(perms.write.covers(ivl("y", null))).toBe(true);
  });

  it("builds once per user until invalidated", () => {
    let builds = 0;
    const cache = new RangePermCache((user) => {
      builds++;
      return user === "ghost" ? undefined : mergePermissions([]);
    });
    cache.get("u");
    cache.get("u");
    expect(builds).toBe(1);
    expect(cache.get("ghost")).toBeUndefined();
    cache.invalidateUser("u");
    cache.get("u");
    expect(builds).toBe(3);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
