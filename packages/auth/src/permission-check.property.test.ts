/**
 * Differential test: random users, roles, permissions and requests of every kind; the auth store's decision
 * must equal that of a tiny reference model written from the rules alone (no intervals, no merging: it
 * tests candidate keys one by one against each permission). Runs AUTH_PROPERTY_RUNS cases (default 10,000).
 */
import { create } from "@bufbuild/protobuf";
import { Permission_Type, PermissionSchema } from "@etcd-ts/proto/authpb";
import {
  AuthRoleGrantPermissionRequestSchema,
  AuthRoleRevokePermissionRequestSchema,
  AuthUserAddRequestSchema,
  AuthUserGrantRoleRequestSchema,
  AuthUserRevokeRoleRequestSchema,
  CompareSchema,
  DeleteRangeRequestSchema,
  PutRequestSchema,
  RangeRequestSchema,
  type RequestOp,
  RequestOpSchema,
  type TxnRequest,
  TxnRequestSchema,
} from "@etcd-ts/proto/etcdserverpb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AuthStore } from "./auth-store.js";
import { isAuthError } from "./errors.js";
import type { CheckedRequest } from "./permission-check.js";
import type { AuthInfo } from "./token-provider.js";

const runs = Number(process.env.AUTH_PROPERTY_RUNS ?? 10_000);
const fakeHash = Buffer.from(`$2a$04$${"a".repeat(53)}`).toString("base64");
const nullBatch = { put: () => {}, del: () => {} };

// ---- the reference model: strings of code units 0..255 stand for keys ---------------------------------

type Access = "read" | "write";
interface ModelPerm {
  type: Permission_Type;
  key: string;
  end: string;
}
interface Model {
  enabled: boolean;
  revision: number;
  users: Map<string, string[]>;
  roles: Map<string, ModelPerm[]>;
}

/** Does permission `p` grant key `k`? Straight from the definitions. */
function permGrants(p: ModelPerm, k: string): boolean {
  if (p.end === "") return k === p.key;
  if (p.end === "\0") return k >= p.key;
  return p.key <= k && k < p.end;
}

/** Is key `k` touched by a request (key, end)? Empty key start means "\0"; a backwards range is its key. */
function requestTouches(key: string, end: string, k: string): boolean {
  if (end === "") return k === key;
  const start = key === "" ? "\0" : key;
  if (end === "\0") return k >= start;
  if (start >= end) return k === key;
  return start <= k && k < end;
}

function modelAllows(m: Model, user: string, access: Access, key: string, end: string): boolean {
  const perms: ModelPerm[] = [];
  for (const role of m.users.get(user) ?? []) {
    for (const p of m.roles.get(role) ?? []) {
      const ok =
        p.type === Permission_Type.READWRITE ||
        (access === "read" ? p.type === Permission_Type.READ : p.type === Permission_Type.WRITE);
      if (ok) perms.push(p);
    }
  }
  // Where coverage could begin to fail: the request's own start, and every place a permission stops.
  const candidates = new Set<string>([key, key === "" ? "\0" : key]);
  for (const p of perms) {
    candidates.add(p.key);
    if (p.end === "") candidates.add(`${p.key}\0`);
    else if (p.end !== "\0") candidates.add(p.end);
  }
  for (const k of candidates) {
    if (!requestTouches(key, end, k)) continue;
    if (!perms.some((p) => permGrants(p, k))) return false;
  }
  return true;
}

type Need = [Access, string, string];
const s = (bytes: Uint8Array) => String.fromCharCode(...bytes);

function needsOfOps(ops: readonly RequestOp[], leases: Map<bigint, string[]>, out: Need[]): void {
  for (const op of ops) {
    const r = op.request;
    if (r.case === "requestRange") out.push(["read", s(r.value.key), s(r.value.rangeEnd)]);
    if (r.case === "requestPut") needsOfPut(r.value.key, r.value.prevKv, r.value.lease, leases, out);
    if (r.case === "requestDeleteRange") {
      out.push(["write", s(r.value.key), s(r.value.rangeEnd)]);
      if (r.value.prevKv) out.push(["read", s(r.value.key), s(r.value.rangeEnd)]);
    }
    if (r.case === "requestTxn") needsOfTxn(r.value, leases, out);
  }
}
function needsOfPut(
  key: Uint8Array,
  prevKv: boolean,
  lease: bigint,
  leases: Map<bigint, string[]>,
  out: Need[],
) {
  out.push(["write", s(key), ""]);
  if (prevKv) out.push(["read", s(key), ""]);
  for (const k of leases.get(lease) ?? []) out.push(["write", k, ""]);
}
function needsOfTxn(txn: TxnRequest, leases: Map<bigint, string[]>, out: Need[]): void {
  for (const c of txn.compare) out.push(["read", s(c.key), s(c.rangeEnd)]);
  needsOfOps(txn.success, leases, out);
  needsOfOps(txn.failure, leases, out);
}

function modelAdmin(m: Model, who: AuthInfo | undefined): string {
  if (!m.enabled) return "ok";
  if (who === undefined || who.username === "") return "userEmpty";
  const roles = m.users.get(who.username);
  if (roles === undefined) return "userNotFound";
  return roles.includes("root") ? "ok" : "permissionDenied";
}

function modelDecide(
  m: Model,
  who: AuthInfo | undefined,
  req: CheckedRequest,
  leases: Map<bigint, string[]>,
): string {
  switch (req.kind) {
    case "admin":
      return modelAdmin(m, who);
    case "userGet": {
      const admin = modelAdmin(m, who);
      if (admin === "ok") return "ok";
      return who !== undefined && who.username === req.name && m.users.has(who.username) ? "ok" : admin;
    }
    case "roleGet": {
      const admin = modelAdmin(m, who);
      if (admin === "ok") return "ok";
      return who !== undefined && (m.users.get(who.username) ?? []).includes(req.role) ? "ok" : admin;
    }
    default:
      break;
  }
  if (!m.enabled) return "ok";
  if (who === undefined || who.username === "" || who.revision === 0) return "userEmpty";
  if (who.revision < m.revision) return "authOldRevision";
  const roles = m.users.get(who.username);
  if (roles === undefined) return "permissionDenied";
  if (roles.includes("root")) return "ok";
  const needs: Need[] = [];
  switch (req.kind) {
    case "range":
      needs.push(["read", s(req.request.key), s(req.request.rangeEnd)]);
      break;
    case "watch":
      needs.push(["read", s(req.key), s(req.rangeEnd)]);
      break;
    case "put":
      needsOfPut(req.request.key, req.request.prevKv, req.request.lease, leases, needs);
      break;
    case "deleteRange":
      needs.push(["write", s(req.request.key), s(req.request.rangeEnd)]);
      if (req.request.prevKv) needs.push(["read", s(req.request.key), s(req.request.rangeEnd)]);
      break;
    case "txn":
      needsOfTxn(req.request, leases, needs);
      break;
    case "authenticated":
      break;
    case "leaseRevoke":
      for (const k of req.attachedKeys) needs.push(["write", s(k), ""]);
      break;
    case "leaseTimeToLive":
      for (const k of req.attachedKeys) needs.push(["read", s(k), ""]);
      break;
    default:
      throw new Error(`model does not know ${(req as CheckedRequest).kind}`);
  }
  return needs.every(([access, key, end]) => modelAllows(m, who.username, access, key, end))
    ? "ok"
    : "permissionDenied";
}

// ---- generators ---------------------------------------------------------------------------------------

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const keyArb = fc.array(fc.constantFrom("\0", "a", "b", "\xff"), { maxLength: 2 }).map((cs) => cs.join(""));
// A range end may be one byte longer than a key, so that a range can end just after a key + "\0".
const endArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: fc.constant("\0") },
  { weight: 3, arbitrary: keyArb },
  { weight: 1, arbitrary: keyArb.map((k) => `${k}\0`) },
);
const userArb = fc.constantFrom("u0", "u1", "root");
const roleArb = fc.constantFrom("r0", "r1", "root");
const typeArb = fc.constantFrom(Permission_Type.READ, Permission_Type.WRITE, Permission_Type.READWRITE);

type Op =
  | { t: "addUser"; user: string }
  | { t: "delUser"; user: string }
  | { t: "addRole"; role: string }
  | { t: "delRole"; role: string }
  | { t: "grantRole"; user: string; role: string }
  | { t: "revokeRole"; user: string; role: string }
  | { t: "grantPerm"; role: string; type: Permission_Type; key: string; end: string }
  | { t: "revokePerm"; role: string; key: string; end: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: userArb.map((user) => ({ t: "addUser" as const, user })) },
  { weight: 1, arbitrary: userArb.map((user) => ({ t: "delUser" as const, user })) },
  { weight: 2, arbitrary: roleArb.map((role) => ({ t: "addRole" as const, role })) },
  { weight: 1, arbitrary: roleArb.map((role) => ({ t: "delRole" as const, role })) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("grantRole" as const), user: userArb, role: roleArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("revokeRole" as const), user: userArb, role: roleArb }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("grantPerm" as const),
      role: roleArb,
      type: typeArb,
      key: keyArb,
      end: endArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("revokePerm" as const), role: roleArb, key: keyArb, end: endArb }),
  },
);

const leaseIdArb = fc.constantFrom(0n, 1n, 2n, 3n);
const rangeArb = fc.record({ key: keyArb, end: endArb });

const opLeafArb: fc.Arbitrary<RequestOp> = fc.oneof(
  rangeArb.map(({ key, end }) =>
    create(RequestOpSchema, {
      request: {
        case: "requestRange",
        value: create(RangeRequestSchema, { key: bytes(key), rangeEnd: bytes(end) }),
      },
    }),
  ),
  fc.record({ key: keyArb, prevKv: fc.boolean(), lease: leaseIdArb }).map(({ key, prevKv, lease }) =>
    create(RequestOpSchema, {
      request: { case: "requestPut", value: create(PutRequestSchema, { key: bytes(key), prevKv, lease }) },
    }),
  ),
  fc.record({ key: keyArb, end: endArb, prevKv: fc.boolean() }).map(({ key, end, prevKv }) =>
    create(RequestOpSchema, {
      request: {
        case: "requestDeleteRange",
        value: create(DeleteRangeRequestSchema, { key: bytes(key), rangeEnd: bytes(end), prevKv }),
      },
    }),
  ),
);

const txnArb: fc.Arbitrary<TxnRequest> = fc.letrec<{ txn: TxnRequest; op: RequestOp }>((tie) => ({
  txn: fc
    .record({
      compare: fc.array(rangeArb, { maxLength: 2 }),
      success: fc.array(tie("op"), { maxLength: 3 }),
      failure: fc.array(tie("op"), { maxLength: 3 }),
    })
    .map(({ compare, success, failure }) =>
      create(TxnRequestSchema, {
        compare: compare.map(({ key, end }) =>
          create(CompareSchema, { key: bytes(key), rangeEnd: bytes(end) }),
        ),
        success,
        failure,
      }),
    ),
  op: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    opLeafArb,
    tie("txn").map((txn) => create(RequestOpSchema, { request: { case: "requestTxn", value: txn } })),
  ),
})).txn;

const requestArb = (leases: Map<bigint, string[]>): fc.Arbitrary<CheckedRequest> => {
  const leaseKeys = (id: bigint) => (leases.get(id) ?? []).map(bytes);
  return fc.oneof(
    rangeArb.map(
      ({ key, end }): CheckedRequest => ({
        kind: "range",
        request: create(RangeRequestSchema, { key: bytes(key), rangeEnd: bytes(end) }),
      }),
    ),
    fc.record({ key: keyArb, prevKv: fc.boolean(), lease: leaseIdArb }).map(
      ({ key, prevKv, lease }): CheckedRequest => ({
        kind: "put",
        request: create(PutRequestSchema, { key: bytes(key), prevKv, lease }),
        leaseKeys,
      }),
    ),
    fc.record({ key: keyArb, end: endArb, prevKv: fc.boolean() }).map(
      ({ key, end, prevKv }): CheckedRequest => ({
        kind: "deleteRange",
        request: create(DeleteRangeRequestSchema, { key: bytes(key), rangeEnd: bytes(end), prevKv }),
      }),
    ),
    txnArb.map((request): CheckedRequest => ({ kind: "txn", request, leaseKeys })),
    rangeArb.map(
      ({ key, end }): CheckedRequest => ({ kind: "watch", key: bytes(key), rangeEnd: bytes(end) }),
    ),
    leaseIdArb.map((id): CheckedRequest => ({ kind: "leaseRevoke", attachedKeys: leaseKeys(id) })),
    fc
      .record({ id: leaseIdArb, keys: fc.boolean() })
      .map(
        ({ id, keys }): CheckedRequest => ({ kind: "leaseTimeToLive", keys, attachedKeys: leaseKeys(id) }),
      ),
    fc
      .constantFrom("compaction", "memberAdd", "defragment")
      .map((operation): CheckedRequest => ({ kind: "admin", operation })),
    fc
      .constantFrom("leaseGrant", "leaseKeepAlive", "memberList")
      .map((operation): CheckedRequest => ({ kind: "authenticated", operation })),
    userArb.map((name): CheckedRequest => ({ kind: "userGet", name })),
    roleArb.map((role): CheckedRequest => ({ kind: "roleGet", role })),
  );
};

// ---- applying the random history to the store and to the model ---------------------------------------

function applyToBoth(store: AuthStore, m: Model, op: Op): void {
  let storeOk = true;
  try {
    switch (op.t) {
      case "addUser":
        store.applyUserAdd(
          nullBatch,
          create(AuthUserAddRequestSchema, { name: op.user, hashedPassword: fakeHash }),
        );
        break;
      case "delUser":
        store.applyUserDelete(nullBatch, { name: op.user });
        break;
      case "addRole":
        store.applyRoleAdd(nullBatch, { name: op.role });
        break;
      case "delRole":
        store.applyRoleDelete(nullBatch, { role: op.role });
        break;
      case "grantRole":
        store.applyUserGrantRole(
          nullBatch,
          create(AuthUserGrantRoleRequestSchema, { user: op.user, role: op.role }),
        );
        break;
      case "revokeRole":
        store.applyUserRevokeRole(
          nullBatch,
          create(AuthUserRevokeRoleRequestSchema, { name: op.user, role: op.role }),
        );
        break;
      case "grantPerm":
        store.applyRoleGrantPermission(
          nullBatch,
          create(AuthRoleGrantPermissionRequestSchema, {
            name: op.role,
            perm: create(PermissionSchema, {
              permType: op.type,
              key: bytes(op.key),
              rangeEnd: bytes(op.end),
            }),
          }),
        );
        break;
      case "revokePerm":
        store.applyRoleRevokePermission(
          nullBatch,
          create(AuthRoleRevokePermissionRequestSchema, {
            role: op.role,
            key: bytes(op.key),
            rangeEnd: bytes(op.end),
          }),
        );
        break;
    }
  } catch (error) {
    if (!isAuthError(error)) throw error;
    storeOk = false;
  }

  // The model: auth is still off while the history runs, so root is not protected here.
  let modelOk = true;
  let changed = true;
  switch (op.t) {
    case "addUser":
      modelOk = !m.users.has(op.user);
      if (modelOk) m.users.set(op.user, []);
      break;
    case "delUser":
      modelOk = m.users.delete(op.user);
      break;
    case "addRole":
      modelOk = !m.roles.has(op.role);
      if (modelOk) m.roles.set(op.role, []);
      break;
    case "delRole":
      modelOk = m.roles.delete(op.role);
      if (modelOk)
        for (const [u, rs] of m.users)
          m.users.set(
            u,
            rs.filter((r) => r !== op.role),
          );
      break;
    case "grantRole": {
      const roles = m.users.get(op.user);
      modelOk = roles !== undefined && (op.role === "root" || m.roles.has(op.role));
      if (modelOk && roles !== undefined) {
        if (roles.includes(op.role)) changed = false;
        else roles.push(op.role);
      }
      break;
    }
    case "revokeRole": {
      const roles = m.users.get(op.user);
      modelOk = roles?.includes(op.role) ?? false;
      if (modelOk && roles !== undefined)
        m.users.set(
          op.user,
          roles.filter((r) => r !== op.role),
        );
      break;
    }
    case "grantPerm": {
      const valid = op.key !== "" && (op.end === "" || op.end === "\0" || op.key < op.end);
      const perms = m.roles.get(op.role);
      modelOk = valid && perms !== undefined;
      if (modelOk && perms !== undefined) {
        const same = perms.find((p) => p.key === op.key && p.end === op.end);
        if (same) same.type = op.type;
        else perms.push({ type: op.type, key: op.key, end: op.end });
      }
      break;
    }
    case "revokePerm": {
      const perms = m.roles.get(op.role);
      const kept = perms?.filter((p) => !(p.key === op.key && p.end === op.end));
      modelOk = perms !== undefined && kept !== undefined && kept.length < perms.length;
      if (modelOk && kept !== undefined) m.roles.set(op.role, kept);
      break;
    }
  }
  if (modelOk && changed) m.revision += 1;
  expect(storeOk, `apply ${JSON.stringify(op)}`).toBe(modelOk);
}

const stats = new Map<string, number>();
describe("permission checks against a reference model", () => {
  it(`decide like the model over ${runs} random states and requests`, () => {
    const scenario = fc
      .record({
        ops: fc.array(opArb, { minLength: 1, maxLength: 30 }),
        enable: fc.oneof(
          { weight: 5, arbitrary: fc.constant(true) },
          { weight: 1, arbitrary: fc.constant(false) },
        ),
        leases: fc.array(fc.array(keyArb, { maxLength: 3 }), { minLength: 4, maxLength: 4 }),
        who: fc.option(
          fc.record({
            username: fc.constantFrom("u0", "u0", "u0", "u1", "u1", "u1", "root", "ghost", ""),
            stale: fc.oneof(
              { weight: 6, arbitrary: fc.constant(false) },
              { weight: 1, arbitrary: fc.constant(true) },
            ),
          }),
          {
            nil: undefined,
          },
        ),
      })
      .chain((sc) => {
        const leases = new Map(sc.leases.map((keys, i) => [BigInt(i), keys] as const));
        leases.delete(0n); // lease 0 means "no lease"
        return fc.record({
          sc: fc.constant(sc),
          leases: fc.constant(leases),
          requests: fc.array(requestArb(leases), { minLength: 1, maxLength: 8 }),
        });
      });
    fc.assert(
      fc.property(scenario, ({ sc, leases, requests }) => {
        const store = new AuthStore();
        const m: Model = { enabled: false, revision: 1, users: new Map(), roles: new Map() };
        const preamble: Op[] = [
          { t: "addUser", user: "u0" },
          { t: "addUser", user: "u1" },
          { t: "addRole", role: "r0" },
          { t: "addRole", role: "r1" },
          { t: "grantRole", user: "u0", role: "r0" },
          { t: "grantRole", user: "u1", role: "r1" },
        ];
        for (const op of [...preamble, ...sc.ops]) applyToBoth(store, m, op);
        if (sc.enable) {
          for (const op of [
            { t: "addUser", user: "root" },
            { t: "grantRole", user: "root", role: "root" },
          ] as Op[]) {
            if (op.t === "addUser" && m.users.has("root")) continue;
            applyToBoth(store, m, op);
          }
          store.applyAuthEnable(nullBatch);
          m.enabled = true;
          m.revision += 1;
        }
        expect(store.revision).toBe(m.revision);
        const who: AuthInfo | undefined =
          sc.who === undefined
            ? undefined
            : { username: sc.who.username, revision: sc.who.stale ? m.revision - 1 : m.revision };
        for (const req of requests) {
          let got = "ok";
          try {
            store.checkRequest(who, req);
          } catch (error) {
            if (!isAuthError(error)) throw error;
            got = error.code;
          }
          expect(got).toBe(modelDecide(m, who, req, leases));
          if (process.env.AUTH_STATS) {
            const nonRoot =
              who !== undefined &&
              m.users.has(who.username) &&
              !(m.users.get(who.username) ?? []).includes("root");
            stats.set(`${req.kind}:${nonRoot}:${got}`, (stats.get(`${req.kind}:${nonRoot}:${got}`) ?? 0) + 1);
          }
        }
      }),
      { numRuns: runs },
    );
    if (process.env.AUTH_STATS) console.log([...stats].sort().join("\n"));
  }, 120_000);
});
