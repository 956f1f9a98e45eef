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
import { describe, expect, it } from "vitest";
import type { AuthBatch } from "./auth-backend.js";
import { AuthStore } from "./auth-store.js";
import { type AuthErrorCode, isAuthError } from "./errors.js";
import { MemoryAuthBackend } from "./memory-auth-backend.js";
import type { CheckedRequest, LeaseKeysLookup } from "./permission-check.js";
import type { AuthInfo } from "./token-provider.js";

const te = new TextEncoder();
const b = (s: string) => te.encode(s);
// A syntactically valid bcrypt hash (never checked here), base64-encoded as proposals carry it.
const fakeHash = Buffer.from(`$2a$04$${"a".repeat(53)}`).toString("base64");

function setup() {
  const backend = new MemoryAuthBackend();
  const store = new AuthStore();
  const apply = (fn: (batch: AuthBatch) => void) => {
    const batch = backend.batch();
    fn(batch);
    batch.write();
  };
  const user = (name: string, ...roles: string[]) => {
    apply((batch) =>
      store.applyUserAdd(batch, create(AuthUserAddRequestSchema, { name, hashedPassword: fakeHash })),
    );
    for (const role of roles) {
      apply((batch) =>
        store.applyUserGrantRole(batch, create(AuthUserGrantRoleRequestSchema, { user: name, role })),
      );
    }
  };
  const role = (name: string, ...perms: Array<[Permission_Type, string, string?]>) => {
    apply((batch) => store.applyRoleAdd(batch, { name }));
    for (const [permType, key, rangeEnd] of perms) {
      apply((batch) =>
        store.applyRoleGrantPermission(
          batch,
          create(AuthRoleGrantPermissionRequestSchema, {
            name,
            perm: create(PermissionSchema, { permType, key: b(key), rangeEnd: b(rangeEnd ?? "") }),
          }),
        ),
      );
    }
  };
  const enable = () => {
    user("root", "root");
    apply((batch) => store.applyAuthEnable(batch));
  };
  const as = (username: string): AuthInfo => ({ username, revision: store.revision });
  return { store, apply, user, role, enable, as };
}

function denied(fn: () => void, code: AuthErrorCode = "permissionDenied"): boolean {
  try {
    fn();
    return false;
  } catch (error) {
    if (isAuthError(error, code)) return true;
    throw error;
  }
}

const noLeases: LeaseKeysLookup = () => [];
const { READ, WRITE, READWRITE } = Permission_Type;

const rangeOp = (key: string, rangeEnd = ""): RequestOp =>
  create(RequestOpSchema, {
    request: {
      case: "requestRange",
      value: create(RangeRequestSchema, { key: b(key), rangeEnd: b(rangeEnd) }),
    },
  });
const putOp = (key: string, extra: { prevKv?: boolean; lease?: bigint } = {}): RequestOp =>
  create(RequestOpSchema, {
    request: {
      case: "requestPut",
      value: create(PutRequestSchema, { key: b(key), value: b("v"), ...extra }),
    },
  });
const delOp = (key: string, rangeEnd = "", prevKv = false): RequestOp =>
  create(RequestOpSchema, {
    request: {
      case: "requestDeleteRange",
      value: create(DeleteRangeRequestSchema, { key: b(key), rangeEnd: b(rangeEnd), prevKv }),
    },
  });
const txnOp = (txn: TxnRequest): RequestOp =>
  create(RequestOpSchema, { request: { case: "requestTxn", value: txn } });
const txn = (parts: { compare?: Array<[string, string?]>; success?: RequestOp[]; failure?: RequestOp[] }) =>
  create(TxnRequestSchema, {
    compare: (parts.compare ?? []).map(([key, rangeEnd]) =>
      create(CompareSchema, { key: b(key), rangeEnd: b(rangeEnd ?? "") }),
    ),
    success: parts.success ?? [],
    failure: parts.failure ?? [],
  });

describe("key permissions", () => {
  it("allows everything while auth is disabled, even without a user", () => {
    const { store } = setup();
    store.checkRangePermitted(undefined, b("a"), b("\0"));
    store.checkPutPermitted(undefined, b("a"));
    store.checkAdminPermitted(undefined);
  });

  it("a single-key permission covers exactly that key", () => {
    const { store, user, role, enable, as } = setup();
    role("r", [READ, "foo"]);
    user("u", "r");
    enable();
    store.checkRangePermitted(as("u"), b("foo"), b(""));
    store.checkRangePermitted(as("u"), b("foo"), b("foo\0")); // the range [foo, foo\0) is only foo
    expect(denied(() => store.checkRangePermitted(as("u"), b("foo0"), b("")))).toBe(true);
    expect(denied(() => store.checkRangePermitted(as("u"), b("fo"), b("")))).toBe(true);
    expect(denied(() => store.checkPutPermitted(as("u"), b("foo")))).toBe(true);
  });

  it("read permission on one key does not allow reading or watching the keys after it (GHSA-xg4h-6gfc-h4m8)", () => {
    const { store, user, role, enable, as } = setup();
    role("r", [READ, "foo"]);
    user("u", "r");
    enable();
    const u = as("u");
    expect(denied(() => store.checkRangePermitted(u, b("foo"), b("\0")))).toBe(true);
    expect(denied(() => store.checkRangePermitted(u, b("foo"), b("fop")))).toBe(true);
    expect(denied(() => store.checkRangePermitted(u, b("foo"), b("foo\0\0")))).toBe(true);
    expect(denied(() => store.checkRequest(u, { kind: "watch", key: b("foo"), rangeEnd: b("\0") }))).toBe(
      true,
    );
    expect(denied(() => store.checkRequest(u, { kind: "watch", key: b("foo"), rangeEnd: b("g") }))).toBe(
      true,
    );
    expect(denied(() => store.checkRequest(u, { kind: "watch", key: b(""), rangeEnd: b("\0") }))).toBe(true);
    store.checkRequest(u, { kind: "watch", key: b("foo"), rangeEnd: b("") });
  });

  it("a range permission covers [key, rangeEnd) and its sub-ranges only", () => {
    const { store, user, role, enable, as } = setup();
    role("r", [READWRITE, "a", "c"]);
    user("u", "r");
    enable();
    const u = as("u");
    store.checkRangePermitted(u, b("a"), b("c"));
    store.checkRangePermitted(u, b("b"), b("bz"));
    store.checkDeleteRangePermitted(u, b("a"), b("c"));
    store.checkPutPermitted(u, b("bzzz"));
    expect(denied(() => store.checkPutPermitted(u, b("c")))).toBe(true);
    expect(denied(() => store.checkRangePermitted(u, b("a"), b("c\0")))).toBe(true);
    expect(denied(() => store.checkRangePermitted(u, b("0"), b("b")))).toBe(true);
    expect(denied(() => store.checkDeleteRangePermitted(u, b("b"), b("\0")))).toBe(true);
  });

  it("a prefix permission covers the prefix and nothing past its end", () => {
    const { store, user, role, enable, as } = setup();
    role("r", [READ, "/app/", "/app0"]); // the prefix "/app/"
    user("u", "r");
    enable();
    const u = as("u");
    store.checkRangePermitted(u, b("/app/"), b("/app0"));
    store.checkRangePermitted(u, b("/app/x/y"), b(""));
    expect(denied(() => store.checkRangePermitted(u, b("/app0"), b("")))).toBe(true);
    expect(denied(() => store.checkRangePermitted(u, b("/app"), b("")))).toBe(true);
  });

  it("a from-key permission (range end \\0) covers every key from the key on", () => {
    const { store, user, role, enable, as } = setup();
    role("r", [WRITE, "m", "\0"]);
    role("all", [READ, "\0", "\0"]);
    user("u", "r");
    user("reader", "all");
    enable();
    store.checkDeleteRangePermitted(as("u"), b("m"), b("\0"));
    store.checkPutPermitted(as("u"), b("zzzz\xff"));
    expect(denied(() => store.checkPutPermitted(as("u"), b("l")))).toBe(true);
    expect(denied(() => store.checkRangePermitted(as("u"), b("m"), b("")))).toBe(true); // write only
    store.checkRangePermitted(as("reader"), b(""), b("\0"));
    store.checkRangePermitted(as("reader"), b("\0"), b("\0"));
  });

  it("merges the permissions of several roles, including adjacent ranges", () => {
    const { store, user, role, enable, as } = setup();
    role("r1", [READ, "a", "b"]);
    role("r2", [READ, "b", "c"]);
    user("u", "r1", "r2");
    enable();
    store.checkRangePermitted(as("u"), b("a"), b("c"));
    expect(denied(() => store.checkRangePermitted(as("u"), b("a"), b("c\0")))).toBe(true);
  });

  it("follows grants and revocations at once (the cache is invalidated)", () => {
    const { store, apply, user, role, enable, as } = setup();
    role("r", [READ, "k"]);
    user("u");
    enable();
    expect(denied(() => store.checkRangePermitted(as("u"), b("k"), b("")))).toBe(true);
    apply((batch) =>
      store.applyUserGrantRole(batch, create(AuthUserGrantRoleRequestSchema, { user: "u", role: "r" })),
    );
    store.checkRangePermitted(as("u"), b("k"), b(""));
    apply((batch) =>
      store.applyRoleRevokePermission(
        batch,
        create(AuthRoleRevokePermissionRequestSchema, { role: "r", key: b("k") }),
      ),
    );
    expect(denied(() => store.checkRangePermitted(as("u"), b("k"), b("")))).toBe(true);
    apply((batch) =>
      store.applyRoleGrantPermission(
        batch,
        create(AuthRoleGrantPermissionRequestSchema, {
          name: "r",
          perm: create(PermissionSchema, { permType: READ, key: b("k") }),
        }),
      ),
    );
    store.checkRangePermitted(as("u"), b("k"), b(""));
    apply((batch) =>
      store.applyUserRevokeRole(batch, create(AuthUserRevokeRoleRequestSchema, { name: "u", role: "r" })),
    );
    expect(denied(() => store.checkRangePermitted(as("u"), b("k"), b("")))).toBe(true);
  });

  it("lets a user with the root role do everything", () => {
    const { store, user, enable, as } = setup();
    user("admin", "root");
    enable();
    store.checkRangePermitted(as("admin"), b(""), b("\0"));
    store.checkDeleteRangePermitted(as("admin"), b("\0"), b("\0"));
    store.checkAdminPermitted(as("admin"));
    store.checkRequest(as("admin"), { kind: "leaseRevoke", attachedKeys: [b("x")] });
  });

  it("needs a user, a known user and a current auth revision", () => {
    const { store, apply, user, role, enable, as } = setup();
    role("r", [READ, "k"]);
    user("u", "r");
    enable();
    expect(denied(() => store.checkRangePermitted(undefined, b("k"), b("")), "userEmpty")).toBe(true);
    expect(
      denied(() => store.checkRangePermitted({ username: "", revision: 5 }, b("k"), b("")), "userEmpty"),
    ).toBe(true);
    expect(denied(() => store.checkRangePermitted(as("ghost"), b("k"), b("")))).toBe(true);
    const stale = as("u");
    apply((batch) => store.applyRoleAdd(batch, { name: "other" }));
    expect(denied(() => store.checkRangePermitted(stale, b("k"), b("")), "authOldRevision")).toBe(true);
    store.checkRangePermitted(as("u"), b("k"), b(""));
  });

  it("keeps admin calls for the root role", () => {
    const { store, user, role, enable, as } = setup();
    role("r", [READWRITE, "\0", "\0"]);
    user("u", "r");
    enable();
    expect(denied(() => store.checkAdminPermitted(as("u")))).toBe(true);
    expect(denied(() => store.checkAdminPermitted(undefined), "userEmpty")).toBe(true);
    expect(denied(() => store.checkAdminPermitted(as("ghost")), "userNotFound")).toBe(true);
    for (const operation of [
      "compaction",
      "memberAdd",
      "alarm",
      "defragment",
      "snapshot",
      "hash",
      "moveLeader",
    ]) {
      expect(denied(() => store.checkRequest(as("u"), { kind: "admin", operation }))).toBe(true);
    }
    store.checkAdminPermitted(as("root"));
  });

  it("keeps lease and member-list calls from anonymous clients (GHSA-q8m4-xhhv-38mg)", () => {
    const { store, apply, user, enable, as } = setup();
    user("u");
    const anyone = { kind: "authenticated", operation: "leaseGrant" } as const;
    store.checkRequest(undefined, anyone); // auth off: no identity needed
    enable();
    store.checkRequest(as("u"), anyone);
    store.checkRequest(as("u"), { kind: "authenticated", operation: "memberList" });
    expect(denied(() => store.checkRequest(undefined, anyone), "userEmpty")).toBe(true);
    expect(denied(() => store.checkRequest(as("ghost"), anyone))).toBe(true);
    const stale = as("u");
    apply((batch) => store.applyRoleAdd(batch, { name: "bump" }));
    expect(denied(() => store.checkRequest(stale, anyone), "authOldRevision")).toBe(true);
  });

  it("lets a user read itself and the roles it has", () => {
    const { store, user, role, enable, as } = setup();
    role("r");
    role("s");
    user("u", "r");
    enable();
    store.checkRequest(as("u"), { kind: "userGet", name: "u" });
    store.checkRequest(as("u"), { kind: "roleGet", role: "r" });
    expect(denied(() => store.checkRequest(as("u"), { kind: "userGet", name: "root" }))).toBe(true);
    expect(denied(() => store.checkRequest(as("u"), { kind: "roleGet", role: "s" }))).toBe(true);
  });
});

describe("put, delete-range and txn", () => {
  function txnSetup() {
    const s = setup();
    s.role("r", [READWRITE, "rw/", "rw0"], [READ, "ro/", "ro0"], [WRITE, "wo/", "wo0"]);
    s.user("u", "r");
    s.enable();
    return s;
  }

  it("a put with prev_kv needs read as well as write", () => {
    const { store, as } = txnSetup();
    store.checkPut(as("u"), create(PutRequestSchema, { key: b("wo/a") }), noLeases);
    store.checkPut(as("u"), create(PutRequestSchema, { key: b("rw/a"), prevKv: true }), noLeases);
    expect(
      denied(() =>
        store.checkPut(as("u"), create(PutRequestSchema, { key: b("wo/a"), prevKv: true }), noLeases),
      ),
    ).toBe(true);
  });

  it("a delete-range with prev_kv needs read as well as write", () => {
    const { store, as } = txnSetup();
    store.checkDeleteRange(as("u"), create(DeleteRangeRequestSchema, { key: b("wo/"), rangeEnd: b("wo0") }));
    expect(
      denied(() =>
        store.checkDeleteRange(
          as("u"),
          create(DeleteRangeRequestSchema, { key: b("wo/"), rangeEnd: b("wo0"), prevKv: true }),
        ),
      ),
    ).toBe(true);
  });

  it("a put attaching a lease needs write on every key already on the lease", () => {
    const { store, as } = txnSetup();
    const leaseKeys: LeaseKeysLookup = (id) => (id === 7n ? [b("rw/x"), b("ro/secret")] : []);
    store.checkPut(as("u"), create(PutRequestSchema, { key: b("rw/a"), lease: 8n }), leaseKeys);
    expect(
      denied(() =>
        store.checkPut(as("u"), create(PutRequestSchema, { key: b("rw/a"), lease: 7n }), leaseKeys),
      ),
    ).toBe(true);
  });

  it("checks every compare and both branches", () => {
    const { store, as } = txnSetup();
    store.checkTxnPermitted(
      as("u"),
      txn({ compare: [["ro/a"], ["rw/", "rw0"]], success: [putOp("wo/x")], failure: [rangeOp("ro/x")] }),
      noLeases,
    );
    expect(denied(() => store.checkTxnPermitted(as("u"), txn({ compare: [["wo/a"]] }), noLeases))).toBe(true);
    expect(denied(() => store.checkTxnPermitted(as("u"), txn({ compare: [["ro/", "\0"]] }), noLeases))).toBe(
      true,
    );
    expect(denied(() => store.checkTxnPermitted(as("u"), txn({ failure: [putOp("ro/x")] }), noLeases))).toBe(
      true,
    );
    expect(
      denied(() => store.checkTxnPermitted(as("u"), txn({ success: [delOp("ro/", "ro0")] }), noLeases)),
    ).toBe(true);
  });

  it("checks the ops of nested txns (CVE-2026-33343)", () => {
    const { store, as } = txnSetup();
    const deep = (op: RequestOp) =>
      txn({ success: [txnOp(txn({ failure: [txnOp(txn({ success: [op] }))] }))] });
    store.checkTxnPermitted(as("u"), deep(putOp("rw/a")), noLeases);
    expect(denied(() => store.checkTxnPermitted(as("u"), deep(putOp("ro/a")), noLeases))).toBe(true);
    expect(denied(() => store.checkTxnPermitted(as("u"), deep(rangeOp("wo/a")), noLeases))).toBe(true);
    expect(denied(() => store.checkTxnPermitted(as("u"), deep(delOp("rw/", "\0")), noLeases))).toBe(true);
    const nestedCompare = txn({ success: [txnOp(txn({ compare: [["wo/a"]] }))] });
    expect(denied(() => store.checkTxnPermitted(as("u"), nestedCompare, noLeases))).toBe(true);
  });

  it("checks prev_kv and lease attach of a put inside a txn (GHSA-x35m-3gp4-4fh5)", () => {
    const { store, as } = txnSetup();
    const leaseKeys: LeaseKeysLookup = (id) => (id === 7n ? [b("ro/secret")] : []);
    expect(
      denied(() =>
        store.checkTxnPermitted(as("u"), txn({ success: [putOp("wo/a", { prevKv: true })] }), noLeases),
      ),
    ).toBe(true);
    expect(
      denied(() =>
        store.checkTxnPermitted(as("u"), txn({ failure: [putOp("rw/a", { lease: 7n })] }), leaseKeys),
      ),
    ).toBe(true);
    expect(
      denied(() =>
        store.checkTxnPermitted(
          as("u"),
          txn({ success: [txnOp(txn({ success: [delOp("wo/", "wo0", true)] }))] }),
          noLeases,
        ),
      ),
    ).toBe(true);
    store.checkTxnPermitted(
      as("u"),
      txn({ success: [putOp("rw/a", { prevKv: true, lease: 9n })] }),
      leaseKeys,
    );
  });
});

describe("leases", () => {
  it("a lease revoke needs write on every attached key, and a user", () => {
    const { store, user, role, enable, as } = setup();
    role("r", [READWRITE, "a"], [READ, "b"]);
    user("u", "r");
    enable();
    store.checkRequest(as("u"), { kind: "leaseRevoke", attachedKeys: [b("a")] });
    expect(
      denied(() => store.checkRequest(as("u"), { kind: "leaseRevoke", attachedKeys: [b("a"), b("b")] })),
    ).toBe(true);
    expect(
      denied(() => store.checkRequest(undefined, { kind: "leaseRevoke", attachedKeys: [] }), "userEmpty"),
    ).toBe(true);
  });

  it("LeaseTimeToLive needs read on every attached key (CVE-2023-32082)", () => {
    const { store, user, role, enable, as } = setup();
    role("r", [READ, "mine"]);
    user("u", "r");
    enable();
    const req = (keys: boolean): CheckedRequest => ({
      kind: "leaseTimeToLive",
      keys,
      attachedKeys: [b("mine"), b("someone-elses-secret")],
    });
    expect(denied(() => store.checkRequest(as("u"), req(true)))).toBe(true);
    expect(denied(() => store.checkRequest(as("u"), req(false)))).toBe(true); // etcd checks either way
    expect(denied(() => store.checkRequest(undefined, req(false)), "userEmpty")).toBe(true);
    store.checkRequest(as("u"), { kind: "leaseTimeToLive", keys: true, attachedKeys: [b("mine")] });
  });
});
