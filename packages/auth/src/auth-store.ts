import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type Permission,
  Permission_Type,
  PermissionSchema,
  type Role,
  RoleSchema,
  type User,
  UserAddOptionsSchema,
  UserSchema,
} from "@etcd-ts/proto/authpb";
import type {
  AuthRoleGrantPermissionRequest,
  AuthRoleRevokePermissionRequest,
  AuthUserAddRequest,
  AuthUserChangePasswordRequest,
  AuthUserGrantRoleRequest,
  AuthUserRevokeRoleRequest,
  DeleteRangeRequest,
  PutRequest,
  TxnRequest,
} from "@etcd-ts/proto/etcdserverpb";
import { assert } from "./assert.js";
import {
  type AuthBackendReader,
  type AuthBatch,
  authKeys,
  decodeRevision,
  encodeRevision,
  nameAfterPrefix,
  roleKey,
  userKey,
} from "./auth-backend.js";
import { AuthError } from "./errors.js";
import { compareKeys, isValidPermissionRange, keysEqual } from "./key-interval.js";
import { burnPasswordCheck, comparePassword, decodeHashedPassword } from "./password.js";
import {
  type CheckedRequest,
  checkAdminPermitted,
  checkDeleteRangePermitted,
  checkPutPermitted,
  checkRangePermitted,
  checkRequest,
  checkTxnPermitted,
  type LeaseKeysLookup,
  type PermissionState,
} from "./permission-check.js";
import { mergePermissions, RangePermCache, type UserPermissions } from "./range-perm-cache.js";
import type { AuthInfo, TokenAssignContext, TokenProvider } from "./token-provider.js";

/** rootUser is the name of the user that must exist, with the root role, before auth can be enabled. */
export const rootUser = "root";
/** rootRole is the role that may do everything. */
export const rootRole = "root";

/** AuthStatus is what AuthStatus returns. */
export interface AuthStatus {
  readonly enabled: boolean;
  readonly authRevision: number;
}

/** AuthStoreOptions configures an {@link AuthStore}. */
export interface AuthStoreOptions {
  /** tokenProvider issues and resolves tokens; without one, Authenticate fails and no token is valid. */
  readonly tokenProvider?: TokenProvider;
}

/**
 * initialRevision is the auth revision of a store that has never changed (etcd starts at 1 as well), so
 * that revision 0 can mean "no user" in an AuthInfo.
 */
const initialRevision = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function checkName(name: string): void {
  // A lone surrogate would encode to U+FFFD and alias another name in the backend.
  if (decoder.decode(encoder.encode(name)) !== name)
    throw new AuthError("invalidAuthMgmt", "name is not valid UTF-8");
}

function hasRoot(user: User): boolean {
  return user.roles.includes(rootRole);
}

/**
 * AuthStore is etcd's RBAC state (users, roles, their permissions, enabled flag and auth revision) plus the
 * checks made against it. State changes ONLY through the `apply*` methods, called by the applier in raft log
 * order with the batch of the entry being applied; each throws an {@link AuthError} (and writes nothing)
 * when the request is invalid, so every member decides the same. The in-memory state changes as soon as an
 * apply method returns: the server must write the batch before it applies the next entry, and stop the
 * member if that write fails.
 *
 * Every successful change bumps the auth revision; a request authorised at an older revision is refused
 * ("revision of auth store is old") when it is applied.
 */
export class AuthStore implements PermissionState {
  #enabled = false;
  #revision = initialRevision;
  readonly #users = new Map<string, User>();
  readonly #roles = new Map<string, Role>();
  readonly #cache: RangePermCache;
  readonly #tokens: TokenProvider | undefined;

  /** The constructor builds an empty store (auth disabled, revision 1); {@link AuthStore.open} loads one. */
  constructor(options: AuthStoreOptions = {}) {
    this.#tokens = options.tokenProvider;
    this.#cache = new RangePermCache((name) => this.#buildPermissions(name));
  }

  /** open loads the store from the auth sublevel of the backend. */
  static async open(reader: AuthBackendReader, options: AuthStoreOptions = {}): Promise<AuthStore> {
    const store = new AuthStore(options);
    await store.recover(reader);
    return store;
  }

  /**
   * recover replaces the in-memory state with what the backend holds (at start-up, or after the backend
   * was replaced by a snapshot). Cached permissions are dropped; tokens are dropped if auth is now off.
   */
  async recover(reader: AuthBackendReader): Promise<void> {
    let enabled = false;
    let revision = initialRevision;
    const users = new Map<string, User>();
    const roles = new Map<string, Role>();
    for await (const [key, stored] of reader.entries()) {
      // Copy: a LevelDB adapter may hand out Buffers, and parsed messages would keep pointing into them.
      const value = Uint8Array.from(stored);
      if (keysEqual(key, authKeys.enabled)) {
        assert(value.length === 1 && (value[0] === 0 || value[0] === 1), "auth enabled flag must be 0 or 1");
        enabled = value[0] === 1;
        continue;
      }
      if (keysEqual(key, authKeys.revision)) {
        revision = decodeRevision(value);
        continue;
      }
      const userName = nameAfterPrefix(key, authKeys.userPrefix);
      if (userName !== undefined) {
        const user = fromBinary(UserSchema, value);
        assert(decoder.decode(user.name) === userName, "user record must be stored under its own name");
        users.set(userName, user);
        continue;
      }
      const roleName = nameAfterPrefix(key, authKeys.rolePrefix);
      if (roleName !== undefined) {
        const role = fromBinary(RoleSchema, value);
        assert(decoder.decode(role.name) === roleName, "role record must be stored under its own name");
        roles.set(roleName, role);
        continue;
      }
      assert(false, `unknown key in the auth sublevel: ${Buffer.from(key).toString("hex")}`);
    }
    this.#enabled = enabled;
    this.#revision = revision;
    this.#users.clear();
    this.#roles.clear();
    for (const [name, user] of users) this.#users.set(name, user);
    for (const [name, role] of roles) this.#roles.set(name, role);
    this.#cache.clear();
    if (enabled) this.#tokens?.enable();
    else this.#tokens?.disable();
  }

  // ---- reads -------------------------------------------------------------------------------------------

  /** enabled tells whether authentication is on. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** revision is the auth revision; it grows by one with every successful change. */
  get revision(): number {
    return this.#revision;
  }

  /** tokenProvider is the provider given at construction, if any. */
  get tokenProvider(): TokenProvider | undefined {
    return this.#tokens;
  }

  /** status is AuthStatus: enabled flag and auth revision. */
  status(): AuthStatus {
    return { enabled: this.#enabled, authRevision: this.#revision };
  }

  /** userGet returns the user's roles (sorted). Throws `userNotFound`. */
  userGet(name: string): { roles: string[] } {
    const user = this.#users.get(name);
    if (user === undefined) throw new AuthError("userNotFound");
    return { roles: [...user.roles] };
  }

  /** userList returns every user name, sorted. */
  userList(): string[] {
    return [...this.#users.keys()].sort(compareNames);
  }

  /**
   * roleGet returns the role's stored permissions. The root role's full access is implicit and not listed
   * (as Debian's etcd 3.4 shows it). Throws `roleNotFound`.
   */
  roleGet(name: string): Permission[] {
    const role = this.#roles.get(name);
    if (role === undefined) throw new AuthError("roleNotFound");
    return role.keyPermission.map((perm) => clone(PermissionSchema, perm));
  }

  /** roleList returns every role name, sorted. */
  roleList(): string[] {
    return [...this.#roles.keys()].sort(compareNames);
  }

  /** userHasRole tells whether `username` exists and has `role`. */
  userHasRole(username: string, role: string): boolean {
    return this.#users.get(username)?.roles.includes(role) ?? false;
  }

  /** userHasRootRole tells whether the user has the root role; undefined when there is no such user. */
  userHasRootRole(username: string): boolean | undefined {
    const user = this.#users.get(username);
    return user === undefined ? undefined : hasRoot(user);
  }

  /** userPermissions is the user's merged key permissions (cached), undefined when there is no such user. */
  userPermissions(username: string): UserPermissions | undefined {
    return this.#cache.get(username);
  }

  #buildPermissions(username: string): UserPermissions | undefined {
    const user = this.#users.get(username);
    if (user === undefined) return undefined;
    const perms: Permission[] = [];
    for (const roleName of user.roles) {
      const role = this.#roles.get(roleName);
      if (role !== undefined) perms.push(...role.keyPermission);
    }
    return mergePermissions(perms);
  }

  // ---- apply (the only way the state changes) ----------------------------------------------------------

  #bump(batch: AuthBatch): void {
    this.#revision += 1;
    assert(Number.isSafeInteger(this.#revision), "auth revision must stay a safe integer");
    batch.put(authKeys.revision, encodeRevision(this.#revision));
  }

  #putUser(batch: AuthBatch, name: string, user: User): void {
    this.#users.set(name, user);
    batch.put(userKey(name), toBinary(UserSchema, user));
    this.#cache.invalidateUser(name);
  }

  #putRole(batch: AuthBatch, name: string, role: Role): void {
    this.#roles.set(name, role);
    batch.put(roleKey(name), toBinary(RoleSchema, role));
    this.#cache.clear();
  }

  /**
   * applyAuthEnable turns auth on. Requires the user `root` with the role `root`; enabling twice is a no-op.
   * Throws `rootUserNotExist` or `rootRoleNotExist`.
   */
  applyAuthEnable(batch: AuthBatch): void {
    if (this.#enabled) return;
    const root = this.#users.get(rootUser);
    if (root === undefined) throw new AuthError("rootUserNotExist");
    if (!hasRoot(root)) throw new AuthError("rootRoleNotExist");
    this.#enabled = true;
    batch.put(authKeys.enabled, new Uint8Array([1]));
    this.#bump(batch);
    this.#cache.clear();
    this.#tokens?.enable();
  }

  /** applyAuthDisable turns auth off and invalidates every token; disabling twice is a no-op. */
  applyAuthDisable(batch: AuthBatch): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    batch.put(authKeys.enabled, new Uint8Array([0]));
    this.#bump(batch);
    this.#tokens?.disable();
  }

  /**
   * applyUserAdd adds a user, with the bcrypt hash the API layer made (`hashedPassword`, see
   * {@link hashPassword}) or with `options.noPassword`. A request carrying a plaintext `password` is refused:
   * hashing here would salt differently on every member, and the plaintext is already in the log.
   * Throws `userEmpty`, `userAlreadyExist` or `invalidAuthMgmt`.
   */
  applyUserAdd(batch: AuthBatch, request: AuthUserAddRequest): void {
    if (request.name.length === 0) throw new AuthError("userEmpty");
    checkName(request.name);
    if (this.#users.has(request.name)) throw new AuthError("userAlreadyExist");
    if (request.password.length > 0)
      throw new AuthError("invalidAuthMgmt", "plaintext password in a proposal");
    const noPassword = request.options?.noPassword ?? false;
    let password: Uint8Array = new Uint8Array(0);
    if (!noPassword) {
      const decoded = decodeHashedPassword(request.hashedPassword);
      if (decoded === undefined)
        throw new AuthError("invalidAuthMgmt", "hashedPassword is not a bcrypt hash");
      password = decoded;
    }
    const user = create(UserSchema, {
      name: encoder.encode(request.name),
      password,
      roles: [],
      options: create(UserAddOptionsSchema, { noPassword }),
    });
    this.#putUser(batch, request.name, user);
    this.#bump(batch);
  }

  /**
   * applyUserDelete deletes a user and every token it holds. The root user cannot be deleted while auth is
   * on. Throws `invalidAuthMgmt` or `userNotFound`.
   */
  applyUserDelete(batch: AuthBatch, request: { name: string }): void {
    if (this.#enabled && request.name === rootUser) throw new AuthError("invalidAuthMgmt");
    if (!this.#users.has(request.name)) throw new AuthError("userNotFound");
    this.#users.delete(request.name);
    batch.del(userKey(request.name));
    this.#cache.invalidateUser(request.name);
    this.#bump(batch);
    this.#tokens?.invalidateUser(request.name);
  }

  /**
   * applyUserChangePassword replaces a user's password hash and invalidates its tokens. For a user added
   * with `noPassword` the password stays empty, as in etcd. Throws `userNotFound` or `invalidAuthMgmt`.
   */
  applyUserChangePassword(batch: AuthBatch, request: AuthUserChangePasswordRequest): void {
    const user = this.#users.get(request.name);
    if (user === undefined) throw new AuthError("userNotFound");
    if (request.password.length > 0)
      throw new AuthError("invalidAuthMgmt", "plaintext password in a proposal");
    let password: Uint8Array = new Uint8Array(0);
    if (!(user.options?.noPassword ?? false)) {
      const decoded = decodeHashedPassword(request.hashedPassword);
      if (decoded === undefined)
        throw new AuthError("invalidAuthMgmt", "hashedPassword is not a bcrypt hash");
      password = decoded;
    }
    const updated = clone(UserSchema, user);
    updated.password = password;
    this.#putUser(batch, request.name, updated);
    this.#bump(batch);
    this.#tokens?.invalidateUser(request.name);
  }

  /**
   * applyUserGrantRole grants a role to a user (the root role need not exist as a role record); granting a
   * role the user already has changes nothing. Throws `userNotFound` or `roleNotFound`.
   */
  applyUserGrantRole(batch: AuthBatch, request: AuthUserGrantRoleRequest): void {
    const user = this.#users.get(request.user);
    if (user === undefined) throw new AuthError("userNotFound");
    if (request.role !== rootRole && !this.#roles.has(request.role)) throw new AuthError("roleNotFound");
    if (user.roles.includes(request.role)) return;
    const updated = clone(UserSchema, user);
    updated.roles = [...user.roles, request.role].sort(compareNames);
    this.#putUser(batch, request.user, updated);
    this.#bump(batch);
  }

  /**
   * applyUserRevokeRole takes a role from a user. The root user keeps the root role while auth is on.
   * Throws `invalidAuthMgmt`, `userNotFound` or `roleNotGranted`.
   */
  applyUserRevokeRole(batch: AuthBatch, request: AuthUserRevokeRoleRequest): void {
    if (this.#enabled && request.name === rootUser && request.role === rootRole) {
      throw new AuthError("invalidAuthMgmt");
    }
    const user = this.#users.get(request.name);
    if (user === undefined) throw new AuthError("userNotFound");
    if (!user.roles.includes(request.role)) throw new AuthError("roleNotGranted");
    const updated = clone(UserSchema, user);
    updated.roles = user.roles.filter((role) => role !== request.role);
    this.#putUser(batch, request.name, updated);
    this.#bump(batch);
  }

  /** applyRoleAdd adds a role without permissions. Throws `roleEmpty` or `roleAlreadyExist`. */
  applyRoleAdd(batch: AuthBatch, request: { name: string }): void {
    if (request.name.length === 0) throw new AuthError("roleEmpty");
    checkName(request.name);
    if (this.#roles.has(request.name)) throw new AuthError("roleAlreadyExist");
    this.#putRole(
      batch,
      request.name,
      create(RoleSchema, { name: encoder.encode(request.name), keyPermission: [] }),
    );
    this.#bump(batch);
  }

  /**
   * applyRoleDelete deletes a role and takes it from every user. The root role cannot be deleted while
   * auth is on. Throws `invalidAuthMgmt` or `roleNotFound`.
   */
  applyRoleDelete(batch: AuthBatch, request: { role: string }): void {
    if (this.#enabled && request.role === rootRole) throw new AuthError("invalidAuthMgmt");
    if (!this.#roles.has(request.role)) throw new AuthError("roleNotFound");
    this.#roles.delete(request.role);
    batch.del(roleKey(request.role));
    for (const [name, user] of this.#users) {
      if (!user.roles.includes(request.role)) continue;
      const updated = clone(UserSchema, user);
      updated.roles = user.roles.filter((role) => role !== request.role);
      this.#putUser(batch, name, updated);
    }
    this.#cache.clear();
    this.#bump(batch);
  }

  /**
   * applyRoleGrantPermission grants READ, WRITE or READWRITE on one key (empty range end), a range, a prefix
   * (range end = prefix end) or every key from a key on (range end "\0"). Granting the same key and range
   * end again replaces the type. Throws `permissionNotGiven`, `invalidAuthMgmt` (empty key, range end not
   * after the key, unknown type) or `roleNotFound`.
   */
  applyRoleGrantPermission(batch: AuthBatch, request: AuthRoleGrantPermissionRequest): void {
    const perm = request.perm;
    if (perm === undefined) throw new AuthError("permissionNotGiven");
    if (!isValidPermissionRange(perm.key, perm.rangeEnd)) throw new AuthError("invalidAuthMgmt");
    if (!(perm.permType in Permission_Type) || !Number.isInteger(perm.permType)) {
      throw new AuthError("invalidAuthMgmt", "unknown permission type");
    }
    const role = this.#roles.get(request.name);
    if (role === undefined) throw new AuthError("roleNotFound");
    const updated = clone(RoleSchema, role);
    const existing = updated.keyPermission.find(
      (p) => keysEqual(p.key, perm.key) && keysEqual(p.rangeEnd, perm.rangeEnd),
    );
    if (existing !== undefined) {
      existing.permType = perm.permType;
    } else {
      updated.keyPermission.push(
        create(PermissionSchema, {
          permType: perm.permType,
          key: perm.key.slice(),
          rangeEnd: perm.rangeEnd.slice(),
        }),
      );
      updated.keyPermission.sort((a, b) => compareKeys(a.key, b.key) || compareKeys(a.rangeEnd, b.rangeEnd));
    }
    this.#putRole(batch, request.name, updated);
    this.#bump(batch);
  }

  /**
   * applyRoleRevokePermission removes the permission with exactly this key and range end.
   * Throws `roleNotFound` or `permissionNotGranted`.
   */
  applyRoleRevokePermission(batch: AuthBatch, request: AuthRoleRevokePermissionRequest): void {
    const role = this.#roles.get(request.role);
    if (role === undefined) throw new AuthError("roleNotFound");
    const kept = role.keyPermission.filter(
      (p) => !(keysEqual(p.key, request.key) && keysEqual(p.rangeEnd, request.rangeEnd)),
    );
    if (kept.length === role.keyPermission.length) throw new AuthError("permissionNotGranted");
    const updated = clone(RoleSchema, role);
    updated.keyPermission = kept.map((p) => clone(PermissionSchema, p));
    this.#putRole(batch, request.role, updated);
    this.#bump(batch);
  }

  // ---- authentication ----------------------------------------------------------------------------------

  /**
   * checkPassword verifies a user's password with bcrypt, OUTSIDE the apply path (the API layer calls it
   * before proposing Authenticate). Returns the auth revision read before the comparison. Throws
   * `authNotEnabled`, `authFailed` (unknown user or wrong password alike) or `noPasswordUser`.
   */
  async checkPassword(username: string, password: string): Promise<number> {
    if (!this.#enabled) throw new AuthError("authNotEnabled");
    const user = this.#users.get(username);
    if (user === undefined) {
      await burnPasswordCheck(password);
      throw new AuthError("authFailed");
    }
    // etcd says so when a password is given for a user made with --no-password.
    if (user.options?.noPassword ?? false) throw new AuthError("noPasswordUser");
    const revision = this.#revision;
    const hash = user.password;
    if (!(await comparePassword(password, hash))) throw new AuthError("authFailed");
    return revision;
  }

  /**
   * applyAuthenticate issues a token for a user whose password the proposer checked, when the Authenticate
   * entry is applied. It changes no replicated state. `checkedRevision` is what {@link checkPassword}
   * returned (carried in the proposal header): if the auth state changed between the check and the apply
   * (say, the password did), it throws `authOldRevision` and the proposer checks the password again. Throws
   * `authNotEnabled` or `authFailed` too.
   */
  async applyAuthenticate(
    username: string,
    context: TokenAssignContext & { readonly checkedRevision?: number },
  ): Promise<string> {
    if (!this.#enabled) throw new AuthError("authNotEnabled");
    if (context.checkedRevision !== undefined && context.checkedRevision < this.#revision) {
      throw new AuthError("authOldRevision");
    }
    const user = this.#users.get(username);
    if (user === undefined || (user.options?.noPassword ?? false)) throw new AuthError("authFailed");
    if (this.#tokens === undefined) throw new AuthError("authFailed", "no token provider configured");
    return this.#tokens.assign(username, this.#revision, context);
  }

  /**
   * authInfoFromToken resolves a request's token. Returns undefined when auth is off (no identity needed).
   * Throws `invalidAuthToken` for an unknown, expired or forged token.
   */
  async authInfoFromToken(token: string): Promise<AuthInfo | undefined> {
    if (!this.#enabled) return undefined;
    if (this.#tokens === undefined) throw new AuthError("invalidAuthToken");
    const info = await this.#tokens.info(token, this.#revision);
    if (info === undefined) throw new AuthError("invalidAuthToken");
    return info;
  }

  /**
   * authInfoFromCommonName is the identity of a client authenticated by its TLS certificate: the common
   * name is the user name. The server calls it only when client-cert auth is on and the request did not
   * come through the JSON gateway (whose certificate is the gateway's own).
   */
  authInfoFromCommonName(commonName: string): AuthInfo | undefined {
    if (!this.#enabled || commonName.length === 0) return undefined;
    return { username: commonName, revision: this.#revision };
  }

  // ---- permission checks (pure functions over the current state) --------------------------------------

  /** checkRangePermitted throws unless the user may read every key of (key, rangeEnd). */
  checkRangePermitted(authInfo: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    checkRangePermitted(this, authInfo, key, rangeEnd);
  }

  /** checkPutPermitted throws unless the user may write `key`. */
  checkPutPermitted(authInfo: AuthInfo | undefined, key: Uint8Array): void {
    checkPutPermitted(this, authInfo, key);
  }

  /** checkDeleteRangePermitted throws unless the user may write every key of (key, rangeEnd). */
  checkDeleteRangePermitted(authInfo: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    checkDeleteRangePermitted(this, authInfo, key, rangeEnd);
  }

  /** checkAdminPermitted throws unless the user has the root role (or auth is off). */
  checkAdminPermitted(authInfo: AuthInfo | undefined): void {
    checkAdminPermitted(this, authInfo);
  }

  /** checkTxnPermitted throws unless every compare and op (nested included) is permitted. */
  checkTxnPermitted(authInfo: AuthInfo | undefined, txn: TxnRequest, leaseKeys: LeaseKeysLookup): void {
    checkTxnPermitted(this, authInfo, txn, leaseKeys);
  }

  /** checkPut checks a whole PutRequest: the write, prev_kv's read, and an attached lease's keys. */
  checkPut(authInfo: AuthInfo | undefined, put: PutRequest, leaseKeys: LeaseKeysLookup): void {
    checkRequest(this, authInfo, { kind: "put", request: put, leaseKeys });
  }

  /** checkDeleteRange checks a whole DeleteRangeRequest: the write and prev_kv's read. */
  checkDeleteRange(authInfo: AuthInfo | undefined, del: DeleteRangeRequest): void {
    checkRequest(this, authInfo, { kind: "deleteRange", request: del });
  }

  /** checkRequest decides any {@link CheckedRequest}. */
  checkRequest(authInfo: AuthInfo | undefined, request: CheckedRequest): void {
    checkRequest(this, authInfo, request);
  }
}

function compareNames(a: string, b: string): number {
  return compareKeys(encoder.encode(a), encoder.encode(b));
}
