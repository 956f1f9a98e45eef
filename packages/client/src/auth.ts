/** The Auth API (`client.auth`): enable/disable, users, roles and permissions. */
import { Permission_Type } from "@etcd-ts/proto/authpb";
import { Auth } from "@etcd-ts/proto/etcdserverpb";
import { type Bytes, toBytes } from "./bytes.js";
import type { CallSettings, Connection } from "./connection.js";
import { type KeyRange, rangeEndOf } from "./kv.js";

/** PermissionType is what a role may do with a key range. */
export type PermissionType = "read" | "write" | "readwrite";

/** Permission is one range a role may read and/or write. */
export interface Permission {
  type: PermissionType;
  key: Uint8Array;
  /** rangeEnd is empty for a single key. */
  rangeEnd: Uint8Array;
}

const permTypes: Record<PermissionType, Permission_Type> = {
  read: Permission_Type.READ,
  write: Permission_Type.WRITE,
  readwrite: Permission_Type.READWRITE,
};

function fromPermType(t: Permission_Type): PermissionType {
  return t === Permission_Type.READ ? "read" : t === Permission_Type.WRITE ? "write" : "readwrite";
}

/** AuthClient is the Auth API. Management calls need the root role. */
export class AuthClient {
  private readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  /** enable turns authentication on (a root user with the root role must exist). */
  async enable(settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (e, o) => e.client(Auth).authEnable({}, o));
  }

  /** disable turns authentication off. */
  async disable(settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (e, o) => e.client(Auth).authDisable({}, o));
  }

  /** status tells whether authentication is on, and the auth store's revision (etcd 3.5+; 3.4 answers Unimplemented). */
  async status(settings?: CallSettings): Promise<{ enabled: boolean; authRevision: bigint }> {
    const r = await this.connection.unary(true, settings, (e, o) => e.client(Auth).authStatus({}, o));
    return { enabled: r.enabled, authRevision: r.authRevision };
  }

  /** authenticate exchanges a user name and password for a token (the client does this itself with `auth`). */
  async authenticate(name: string, password: string, settings?: CallSettings): Promise<string> {
    const r = await this.connection.unary(true, settings, (e, o) =>
      e.client(Auth).authenticate({ name, password }, o),
    );
    return r.token;
  }

  /** userAdd creates a user (noPassword: only certificate auth). */
  async userAdd(
    name: string,
    password: string,
    options: { noPassword?: boolean } & CallSettings = {},
  ): Promise<void> {
    await this.connection.unary(false, options, (e, o) =>
      e.client(Auth).userAdd({ name, password, options: { noPassword: options.noPassword ?? false } }, o),
    );
  }

  /** userGet lists a user's roles. */
  async userGet(name: string, settings?: CallSettings): Promise<{ roles: string[] }> {
    const r = await this.connection.unary(true, settings, (e, o) => e.client(Auth).userGet({ name }, o));
    return { roles: r.roles };
  }

  /** userList lists the users. */
  async userList(settings?: CallSettings): Promise<string[]> {
    const r = await this.connection.unary(true, settings, (e, o) => e.client(Auth).userList({}, o));
    return r.users;
  }

  /** userDelete deletes a user. */
  async userDelete(name: string, settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (e, o) => e.client(Auth).userDelete({ name }, o));
  }

  /** userChangePassword sets a user's password. */
  async userChangePassword(name: string, password: string, settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (e, o) =>
      e.client(Auth).userChangePassword({ name, password }, o),
    );
  }

  /** userGrantRole gives a user a role. */
  async userGrantRole(user: string, role: string, settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (e, o) => e.client(Auth).userGrantRole({ user, role }, o));
  }

  /** userRevokeRole takes a role from a user. */
  async userRevokeRole(user: string, role: string, settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (e, o) =>
      e.client(Auth).userRevokeRole({ name: user, role }, o),
    );
  }

  /** roleAdd creates a role. */
  async roleAdd(name: string, settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (e, o) => e.client(Auth).roleAdd({ name }, o));
  }

  /** roleGet lists a role's permissions. */
  async roleGet(role: string, settings?: CallSettings): Promise<Permission[]> {
    const r = await this.connection.unary(true, settings, (e, o) => e.client(Auth).roleGet({ role }, o));
    return r.perm.map((p) => ({ type: fromPermType(p.permType), key: p.key, rangeEnd: p.rangeEnd }));
  }

  /** roleList lists the roles. */
  async roleList(settings?: CallSettings): Promise<string[]> {
    const r = await this.connection.unary(true, settings, (e, o) => e.client(Auth).roleList({}, o));
    return r.roles;
  }

  /** roleDelete deletes a role. */
  async roleDelete(role: string, settings?: CallSettings): Promise<void> {
    await this.connection.unary(false, settings, (e, o) => e.client(Auth).roleDelete({ role }, o));
  }

  /** roleGrantPermission lets a role read and/or write a key or range (end / prefix / fromKey). */
  async roleGrantPermission(
    role: string,
    type: PermissionType,
    key: Bytes,
    options: KeyRange & CallSettings = {},
  ): Promise<void> {
    const k = toBytes(key);
    await this.connection.unary(false, options, (e, o) =>
      e
        .client(Auth)
        .roleGrantPermission(
          { name: role, perm: { permType: permTypes[type], key: k, rangeEnd: rangeEndOf(k, options) } },
          o,
        ),
    );
  }

  /** roleRevokePermission removes a role's permission on a key or range. */
  async roleRevokePermission(role: string, key: Bytes, options: KeyRange & CallSettings = {}): Promise<void> {
    const k = toBytes(key);
    await this.connection.unary(false, options, (e, o) =>
      e.client(Auth).roleRevokePermission({ role, key: k, rangeEnd: rangeEndOf(k, options) }, o),
    );
  }
}
