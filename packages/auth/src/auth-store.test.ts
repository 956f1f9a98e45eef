import { create } from "@bufbuild/protobuf";
import { Permission_Type, PermissionSchema, UserAddOptionsSchema } from "@etcd-ts/proto/authpb";
import {
  AuthRoleGrantPermissionRequestSchema,
  AuthRoleRevokePermissionRequestSchema,
  AuthUserAddRequestSchema,
  AuthUserChangePasswordRequestSchema,
  AuthUserGrantRoleRequestSchema,
  AuthUserRevokeRoleRequestSchema,
} from "@etcd-ts/proto/etcdserverpb";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuthBatch } from "./auth-backend.js";
import { AuthStore } from "./auth-store.js";
import { type AuthErrorCode, authErrorMessages, isAuthError } from "./errors.js";
import { MemoryAuthBackend } from "./memory-auth-backend.js";
import { hashPassword } from "./password.js";
import { SimpleTokenProvider } from "./simple-token.js";

const te = new TextEncoder();
const b = (s: string) => te.encode(s);
const cost = 4;

let hashes: Record<string, string> = {};
beforeAll(async () => {
  hashes = {
    pw1: await hashPassword("pw1", { bcryptCost: cost }),
    pw2: await hashPassword("pw2", { bcryptCost: cost }),
    rootpw: await hashPassword("rootpw", { bcryptCost: cost }),
  };
});

function expectAuthError(fn: () => unknown, code: AuthErrorCode): void {
  try {
    fn();
  } catch (error) {
    expect(isAuthError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
    expect((error as Error).message).toBe(authErrorMessages[code]);
    return;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

/** A store over a memory backend; `apply` runs one apply method with a fresh batch and writes it. */
function fixture(tokenProvider?: SimpleTokenProvider) {
  const backend = new MemoryAuthBackend();
  const store = new AuthStore(tokenProvider === undefined ? {} : { tokenProvider });
  const apply = (fn: (batch: AuthBatch) => void) => {
    const batch = backend.batch();
    try {
      fn(batch);
    } catch (error) {
      expect(batch.size, "a refused apply must write nothing").toBe(0);
      throw error;
    }
    batch.write();
  };
  const addUser = (name: string, hash?: string) =>
    apply((batch) =>
      store.applyUserAdd(
        batch,
        create(AuthUserAddRequestSchema, {
          name,
          hashedPassword: hash ?? hashes.pw1,
          ...(hash === "" ? { options: create(UserAddOptionsSchema, { noPassword: true }) } : {}),
        }),
      ),
    );
  const addRole = (name: string) => apply((batch) => store.applyRoleAdd(batch, { name }));
  const grantRole = (user: string, role: string) =>
    apply((batch) => store.applyUserGrantRole(batch, create(AuthUserGrantRoleRequestSchema, { user, role })));
  const grantPerm = (name: string, permType: Permission_Type, key: string, rangeEnd = "") =>
    apply((batch) =>
      store.applyRoleGrantPermission(
        batch,
        create(AuthRoleGrantPermissionRequestSchema, {
          name,
          perm: create(PermissionSchema, { permType, key: b(key), rangeEnd: b(rangeEnd) }),
        }),
      ),
    );
  const enableWithRoot = () => {
    addUser("root", hashes.rootpw);
    grantRole("root", "root");
    apply((batch) => store.applyAuthEnable(batch));
  };
  return { backend, store, apply, addUser, addRole, grantRole, grantPerm, enableWithRoot };
}

describe("users", () => {
  it("adds, gets, lists and deletes users", () => {
    const { store, apply, addUser } = fixture();
    addUser("bob");
    addUser("alice");
    addUser("carol", "");
    expect(store.userList()).toEqual(["alice", "bob", "carol"]);
    expect(store.userGet("bob")).toEqual({ roles: [] });
    apply((batch) => store.applyUserDelete(batch, { name: "bob" }));
    expect(store.userList()).toEqual(["alice", "carol"]);
    expectAuthError(() => store.userGet("bob"), "userNotFound");
  });

  it("refuses an empty, duplicate or missing user", () => {
    const { store, apply, addUser } = fixture();
    expectAuthError(() => addUser(""), "userEmpty");
    addUser("bob");
    expectAuthError(() => addUser("bob"), "userAlreadyExist");
    expectAuthError(() => apply((batch) => store.applyUserDelete(batch, { name: "nobody" })), "userNotFound");
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyUserChangePassword(
            batch,
            create(AuthUserChangePasswordRequestSchema, { name: "nobody", hashedPassword: hashes.pw2 }),
          ),
        ),
      "userNotFound",
    );
  });

  it("refuses a plaintext password or a hash that is not bcrypt in an applied request", () => {
    const { store, apply, addUser } = fixture();
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyUserAdd(batch, create(AuthUserAddRequestSchema, { name: "eve", password: "secret" })),
        ),
      "invalidAuthMgmt",
    );
    expectAuthError(() => addUser("eve", Buffer.from("not a hash").toString("base64")), "invalidAuthMgmt");
    addUser("bob");
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyUserChangePassword(
            batch,
            create(AuthUserChangePasswordRequestSchema, { name: "bob", password: "plain" }),
          ),
        ),
      "invalidAuthMgmt",
    );
  });

  it("grants and revokes roles, keeping them sorted; a duplicate grant changes nothing", () => {
    const { store, apply, addUser, addRole, grantRole } = fixture();
    addUser("bob");
    addRole("zeta");
    addRole("alpha");
    grantRole("bob", "zeta");
    grantRole("bob", "alpha");
    grantRole("bob", "root"); // the root role needs no role record
    expect(store.userGet("bob").roles).toEqual(["alpha", "root", "zeta"]);
    const rev = store.revision;
    grantRole("bob", "alpha");
    expect(store.revision).toBe(rev);
    apply((batch) =>
      store.applyUserRevokeRole(
        batch,
        create(AuthUserRevokeRoleRequestSchema, { name: "bob", role: "zeta" }),
      ),
    );
    expect(store.userGet("bob").roles).toEqual(["alpha", "root"]);
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyUserRevokeRole(
            batch,
            create(AuthUserRevokeRoleRequestSchema, { name: "bob", role: "zeta" }),
          ),
        ),
      "roleNotGranted",
    );
    expectAuthError(() => grantRole("bob", "missing"), "roleNotFound");
    expectAuthError(() => grantRole("nobody", "alpha"), "userNotFound");
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyUserRevokeRole(
            batch,
            create(AuthUserRevokeRoleRequestSchema, { name: "nobody", role: "x" }),
          ),
        ),
      "userNotFound",
    );
  });

  it("checks passwords with bcrypt and changes them", async () => {
    const { store, apply, addUser, enableWithRoot } = fixture();
    addUser("bob");
    addUser("nopw", "");
    await expect(store.checkPassword("bob", "pw1")).rejects.toThrow(authErrorMessages.authNotEnabled);
    enableWithRoot();
    await expect(store.checkPassword("bob", "pw1")).resolves.toBe(store.revision);
    await expect(store.checkPassword("bob", "wrong")).rejects.toThrow(authErrorMessages.authFailed);
    await expect(store.checkPassword("nobody", "pw1")).rejects.toThrow(authErrorMessages.authFailed);
    await expect(store.checkPassword("nopw", "")).rejects.toThrow(authErrorMessages.noPasswordUser);
    apply((batch) =>
      store.applyUserChangePassword(
        batch,
        create(AuthUserChangePasswordRequestSchema, { name: "bob", hashedPassword: hashes.pw2 }),
      ),
    );
    await expect(store.checkPassword("bob", "pw1")).rejects.toThrow(authErrorMessages.authFailed);
    await expect(store.checkPassword("bob", "pw2")).resolves.toBe(store.revision);
  });
});

describe("roles", () => {
  it("adds, gets, lists and deletes roles; deleting takes the role from every user", () => {
    const { store, apply, addUser, addRole, grantRole, grantPerm } = fixture();
    addRole("b");
    addRole("a");
    expect(store.roleList()).toEqual(["a", "b"]);
    addUser("bob");
    grantRole("bob", "a");
    grantRole("bob", "b");
    grantPerm("a", Permission_Type.READ, "k");
    apply((batch) => store.applyRoleDelete(batch, { role: "a" }));
    expect(store.roleList()).toEqual(["b"]);
    expect(store.userGet("bob").roles).toEqual(["b"]);
    expectAuthError(() => store.roleGet("a"), "roleNotFound");
    expectAuthError(() => apply((batch) => store.applyRoleDelete(batch, { role: "a" })), "roleNotFound");
    expectAuthError(() => addRole(""), "roleEmpty");
    expectAuthError(() => addRole("b"), "roleAlreadyExist");
  });

  it("grants permissions sorted by key, replaces the type of the same range, and revokes them", () => {
    const { store, apply, addRole, grantPerm } = fixture();
    addRole("r");
    grantPerm("r", Permission_Type.READ, "m");
    grantPerm("r", Permission_Type.WRITE, "a", "c");
    grantPerm("r", Permission_Type.READWRITE, "x", "\0");
    grantPerm("r", Permission_Type.READWRITE, "m"); // replaces READ on "m"
    expect(
      store
        .roleGet("r")
        .map((p) => [p.permType, Buffer.from(p.key).toString(), Buffer.from(p.rangeEnd).toString()]),
    ).toEqual([
      [Permission_Type.WRITE, "a", "c"],
      [Permission_Type.READWRITE, "m", ""],
      [Permission_Type.READWRITE, "x", "\0"],
    ]);
    apply((batch) =>
      store.applyRoleRevokePermission(
        batch,
        create(AuthRoleRevokePermissionRequestSchema, { role: "r", key: b("a"), rangeEnd: b("c") }),
      ),
    );
    expect(store.roleGet("r")).toHaveLength(2);
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyRoleRevokePermission(
            batch,
            create(AuthRoleRevokePermissionRequestSchema, { role: "r", key: b("a"), rangeEnd: b("c") }),
          ),
        ),
      "permissionNotGranted",
    );
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyRoleRevokePermission(
            batch,
            create(AuthRoleRevokePermissionRequestSchema, { role: "zz" }),
          ),
        ),
      "roleNotFound",
    );
  });

  it("refuses a missing permission, an invalid range or a missing role", () => {
    const { store, apply, addRole, grantPerm } = fixture();
    addRole("r");
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyRoleGrantPermission(batch, create(AuthRoleGrantPermissionRequestSchema, { name: "r" })),
        ),
      "permissionNotGiven",
    );
    expectAuthError(() => grantPerm("r", Permission_Type.READ, ""), "invalidAuthMgmt");
    expectAuthError(() => grantPerm("r", Permission_Type.READ, "b", "a"), "invalidAuthMgmt");
    expectAuthError(() => grantPerm("r", Permission_Type.READ, "b", "b"), "invalidAuthMgmt");
    expectAuthError(() => grantPerm("r", 7 as Permission_Type, "b"), "invalidAuthMgmt");
    expectAuthError(() => grantPerm("missing", Permission_Type.READ, "b"), "roleNotFound");
  });

  it("lists the root role's stored permissions only (its full access is implicit), as etcd 3.4 does", () => {
    const { store, addRole, grantPerm } = fixture();
    addRole("root");
    expect(store.roleGet("root")).toEqual([]);
    grantPerm("root", Permission_Type.READ, "a");
    expect(store.roleGet("root").map((p) => p.permType)).toEqual([Permission_Type.READ]);
  });
});

describe("enable, disable and the auth revision", () => {
  it("requires a root user that has the root role", () => {
    const { store, apply, addUser, grantRole } = fixture();
    expectAuthError(() => apply((batch) => store.applyAuthEnable(batch)), "rootUserNotExist");
    addUser("root");
    expectAuthError(() => apply((batch) => store.applyAuthEnable(batch)), "rootRoleNotExist");
    grantRole("root", "root");
    apply((batch) => store.applyAuthEnable(batch));
    expect(store.status().enabled).toBe(true);
  });

  it("protects root while enabled, and allows it while disabled", () => {
    const { store, apply, addRole, enableWithRoot } = fixture();
    addRole("root");
    enableWithRoot();
    expectAuthError(
      () => apply((batch) => store.applyUserDelete(batch, { name: "root" })),
      "invalidAuthMgmt",
    );
    expectAuthError(
      () => apply((batch) => store.applyRoleDelete(batch, { role: "root" })),
      "invalidAuthMgmt",
    );
    expectAuthError(
      () =>
        apply((batch) =>
          store.applyUserRevokeRole(
            batch,
            create(AuthUserRevokeRoleRequestSchema, { name: "root", role: "root" }),
          ),
        ),
      "invalidAuthMgmt",
    );
    apply((batch) => store.applyAuthDisable(batch));
    apply((batch) =>
      store.applyUserRevokeRole(
        batch,
        create(AuthUserRevokeRoleRequestSchema, { name: "root", role: "root" }),
      ),
    );
    apply((batch) => store.applyRoleDelete(batch, { role: "root" }));
    apply((batch) => store.applyUserDelete(batch, { name: "root" }));
    expect(store.userList()).toEqual([]);
  });

  it("bumps the revision on every change and not on a no-op", () => {
    const { store, apply, addUser, addRole, grantRole, grantPerm } = fixture();
    expect(store.status()).toEqual({ enabled: false, authRevision: 1 });
    addUser("root");
    expect(store.revision).toBe(2);
    grantRole("root", "root");
    addRole("r");
    grantPerm("r", Permission_Type.READ, "k");
    expect(store.revision).toBe(5);
    apply((batch) => store.applyAuthEnable(batch));
    expect(store.revision).toBe(6);
    apply((batch) => store.applyAuthEnable(batch));
    expect(store.revision).toBe(6);
    apply((batch) => store.applyAuthDisable(batch));
    apply((batch) => store.applyAuthDisable(batch));
    expect(store.status()).toEqual({ enabled: false, authRevision: 7 });
    expect(() => addUser("root")).toThrow();
    expect(store.revision).toBe(7);
  });
});

describe("authentication and tokens", () => {
  it("issues a simple token at apply, resolves it, and drops it on password change, delete and disable", async () => {
    let now = 1_000_000;
    let seed = 0;
    const tokens = new SimpleTokenProvider({ now: () => now, random: () => (seed++ % 52) / 52 });
    const { store, apply, addUser, enableWithRoot } = fixture(tokens);
    addUser("bob");
    await expect(store.applyAuthenticate("bob", { index: 5 })).rejects.toThrow(
      authErrorMessages.authNotEnabled,
    );
    enableWithRoot();
    await expect(store.applyAuthenticate("nobody", { index: 5 })).rejects.toThrow(
      authErrorMessages.authFailed,
    );

    const token = await store.applyAuthenticate("bob", {
      index: 7,
      simpleTokenPrefix: tokens.genTokenPrefix(),
    });
    expect(token).toMatch(/^[A-Za-z]{16}\.7$/);
    expect(await store.authInfoFromToken(token)).toEqual({ username: "bob", revision: store.revision });
    await expect(store.authInfoFromToken("nope.1")).rejects.toThrow(authErrorMessages.invalidAuthToken);

    apply((batch) =>
      store.applyUserChangePassword(
        batch,
        create(AuthUserChangePasswordRequestSchema, { name: "bob", hashedPassword: hashes.pw2 }),
      ),
    );
    await expect(store.authInfoFromToken(token)).rejects.toThrow(authErrorMessages.invalidAuthToken);

    const token2 = await store.applyAuthenticate("bob", { index: 8 });
    expect(await store.authInfoFromToken(token2)).toBeDefined();
    apply((batch) => store.applyUserDelete(batch, { name: "bob" }));
    await expect(store.authInfoFromToken(token2)).rejects.toThrow(authErrorMessages.invalidAuthToken);

    const rootToken = await store.applyAuthenticate("root", { index: 9 });
    now += 1000;
    expect(await store.authInfoFromToken(rootToken)).toBeDefined();
    apply((batch) => store.applyAuthDisable(batch));
    expect(await store.authInfoFromToken(rootToken)).toBeUndefined(); // auth off: no identity needed
    apply((batch) => store.applyAuthEnable(batch));
    await expect(store.authInfoFromToken(rootToken)).rejects.toThrow(authErrorMessages.invalidAuthToken);
  });

  it("refuses to issue a token when the password was checked at an older auth revision", async () => {
    const tokens = new SimpleTokenProvider({ now: () => 0, random: () => 0.5 });
    const { store, apply, addUser, enableWithRoot } = fixture(tokens);
    addUser("bob");
    enableWithRoot();
    const checked = await store.checkPassword("bob", "pw1");
    apply((batch) =>
      store.applyUserChangePassword(
        batch,
        create(AuthUserChangePasswordRequestSchema, { name: "bob", hashedPassword: hashes.pw2 }),
      ),
    );
    await expect(store.applyAuthenticate("bob", { index: 3, checkedRevision: checked })).rejects.toThrow(
      authErrorMessages.authOldRevision,
    );
    const again = await store.checkPassword("bob", "pw2");
    await expect(store.applyAuthenticate("bob", { index: 4, checkedRevision: again })).resolves.toMatch(
      /\.4$/,
    );
  });

  it("refuses Authenticate for a no-password user and without a token provider", async () => {
    const { store, addUser, enableWithRoot } = fixture();
    addUser("nopw", "");
    enableWithRoot();
    await expect(store.applyAuthenticate("nopw", { index: 1 })).rejects.toThrow(authErrorMessages.authFailed);
    await expect(store.applyAuthenticate("root", { index: 1 })).rejects.toThrow(authErrorMessages.authFailed);
    await expect(store.authInfoFromToken("x.1")).rejects.toThrow(authErrorMessages.invalidAuthToken);
    // Checking a password for it gets etcd's dedicated text.
    await expect(store.checkPassword("nopw", "anything")).rejects.toThrow(authErrorMessages.noPasswordUser);
    await expect(store.checkPassword("ghost", "anything")).rejects.toThrow(authErrorMessages.authFailed);
  });

  it("takes the TLS common name as the user only while auth is on", () => {
    const { store, enableWithRoot } = fixture();
    expect(store.authInfoFromCommonName("alice")).toBeUndefined();
    enableWithRoot();
    expect(store.authInfoFromCommonName("alice")).toEqual({ username: "alice", revision: store.revision });
    expect(store.authInfoFromCommonName("")).toBeUndefined();
  });
});

describe("persistence", () => {
  it("reloads exactly the applied state from the backend", async () => {
    const { backend, store, apply, addUser, addRole, grantRole, grantPerm, enableWithRoot } = fixture();
    addUser("bob");
    addUser("nopw", "");
    addRole("r");
    addRole("gone");
    grantRole("bob", "r");
    grantPerm("r", Permission_Type.READ, "a", "b");
    grantPerm("r", Permission_Type.WRITE, "z", "\0");
    apply((batch) => store.applyRoleDelete(batch, { role: "gone" }));
    enableWithRoot();
    const reopened = await AuthStore.open(backend);
    expect(reopened.status()).toEqual(store.status());
    expect(reopened.userList()).toEqual(store.userList());
    expect(reopened.roleList()).toEqual(["r"]);
    expect(reopened.roleGet("r")).toEqual(store.roleGet("r"));
    expect(reopened.userGet("bob")).toEqual({ roles: ["r"] });
    await expect(reopened.checkPassword("bob", "pw1")).resolves.toBe(reopened.revision);
  });
});
