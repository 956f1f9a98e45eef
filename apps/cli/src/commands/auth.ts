/** `auth enable|disable|status`, and the `user` and `role` command groups. */
import type { DescMessage } from "@bufbuild/protobuf";
import { prefixEnd } from "@etcd-ts/client";
import { type Permission, Permission_Type } from "@etcd-ts/proto/authpb";
import {
  Auth,
  AuthRoleAddResponseSchema,
  AuthRoleDeleteResponseSchema,
  type AuthRoleGetResponse,
  AuthRoleGetResponseSchema,
  AuthRoleGrantPermissionResponseSchema,
  AuthRoleListResponseSchema,
  AuthRoleRevokePermissionResponseSchema,
  AuthStatusResponseSchema,
  AuthUserAddResponseSchema,
  AuthUserChangePasswordResponseSchema,
  AuthUserDeleteResponseSchema,
  AuthUserGetResponseSchema,
  AuthUserGrantRoleResponseSchema,
  AuthUserListResponseSchema,
  AuthUserRevokeRoleResponseSchema,
} from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec } from "../command.js";
import { badArgs } from "../errors.js";
import { utf8 } from "../key-range.js";
import { formatOf, line, printJson, tableUnsupported } from "../output.js";
import { CallFailed, failWith, type Session } from "../session.js";

/** show prints a response: JSON as is, otherwise the simple text. */
function show(s: Session, schema: DescMessage, response: object, simple: () => void): void {
  switch (formatOf(s)) {
    case "json":
      printJson(s, schema, response);
      return;
    case "table":
      throw tableUnsupported();
    default:
      simple();
  }
}

const authEnable: CommandSpec = {
  name: "enable",
  use: "enable",
  short: "Enables authentication",
  examples: ["etcdctl-ts user add root:secret --interactive=false && etcdctl-ts auth enable"],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("auth enable command does not accept any arguments.");
    const s = ctx.session;
    for (;;) {
      try {
        await s.unary((ep, call) => ep.client(Auth).authEnable({}, call));
        // etcdctl 3.4 prints this line in every -w format.
        return line(s, "Authentication Enabled");
      } catch (err) {
        // etcdctl creates the root role and grants it to root when only that is missing, then tries again.
        if (!(err instanceof CallFailed) || err.message !== "etcdserver: root user does not have root role")
          failWith(err);
        await s
          .unary((ep, call) => ep.client(Auth).roleAdd({ name: "root" }, call))
          .catch((e: unknown) => failWith(e));
        await s
          .unary((ep, call) => ep.client(Auth).userGrantRole({ user: "root", role: "root" }, call))
          .catch((e: unknown) => failWith(e));
      }
    }
  },
};

const authDisable: CommandSpec = {
  name: "disable",
  use: "disable",
  short: "Disables authentication",
  examples: ["etcdctl-ts auth disable --user root:secret"],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("auth disable command does not accept any arguments.");
    const s = ctx.session;
    await s.unary((ep, call) => ep.client(Auth).authDisable({}, call)).catch((e: unknown) => failWith(e));
    // etcdctl 3.4 prints this line in every -w format.
    line(s, "Authentication Disabled");
  },
};

const authStatus: CommandSpec = {
  name: "status",
  use: "status",
  short: "Returns authentication status",
  long: "etcdctl 3.5's `auth status` (etcdctl 3.4 has no such command; etcd 3.4 servers do not implement the call).",
  examples: ["etcdctl-ts auth status"],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("auth status command does not accept any arguments.");
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).authStatus({}, call), { safe: true })
      .catch((e: unknown) => failWith(e));
    show(s, AuthStatusResponseSchema, r, () =>
      line(s, `Authentication Status: ${r.enabled}\nAuthRevision: ${r.authRevision}`),
    );
  },
};

/** auth is the `auth` command group. */
export const auth: CommandSpec = {
  name: "auth",
  use: "auth <enable or disable>",
  short: "Enable or disable authentication",
  examples: ["etcdctl-ts auth enable", "etcdctl-ts auth status"],
  subcommands: [authDisable, authEnable, authStatus],
};

// ---------------------------------------------------------------- roles

function printRange(s: Session, p: Permission): void {
  const key = Buffer.from(p.key).toString("utf8");
  const end = Buffer.from(p.rangeEnd).toString("utf8");
  let text: string;
  if (p.rangeEnd.length === 0) text = `\t${key}`;
  else if (end !== "\0") text = `\t[${key}, ${end})`;
  else text = `\t[${key}, <open ended>`;
  if (
    p.rangeEnd.length > 0 &&
    Buffer.compare(
      Buffer.from(prefixEnd(p.key.length === 0 ? new Uint8Array([0]) : p.key)),
      Buffer.from(p.rangeEnd),
    ) === 0
  ) {
    text += ` (prefix ${key})`;
  }
  line(s, text);
}

function printRoleDetail(s: Session, role: string, r: AuthRoleGetResponse): void {
  line(s, `Role ${role}`);
  line(s, "KV Read:");
  for (const p of r.perm)
    if (p.permType === Permission_Type.READ || p.permType === Permission_Type.READWRITE) printRange(s, p);
  line(s, "KV Write:");
  for (const p of r.perm)
    if (p.permType === Permission_Type.WRITE || p.permType === Permission_Type.READWRITE) printRange(s, p);
}

function permRange(
  args: string[],
  prefix: boolean,
  fromKey: boolean,
): { key: Uint8Array; rangeEnd: Uint8Array } {
  const key = utf8(args[0] as string);
  if (args.length > 1) {
    if (prefix) throw badArgs("unexpected endkey argument with --prefix flag");
    if (fromKey) throw badArgs("unexpected endkey argument with --from-key flag");
    return { key, rangeEnd: utf8(args[1] as string) };
  }
  if (prefix && fromKey)
    throw badArgs("`--prefix` and `--from-key` cannot be set at the same time, choose one");
  if (prefix) return { key, rangeEnd: key.length === 0 ? new Uint8Array([0]) : prefixEnd(key) };
  if (fromKey) return { key, rangeEnd: new Uint8Array([0]) };
  return { key, rangeEnd: new Uint8Array() };
}

const roleAdd: CommandSpec = {
  name: "add",
  use: "add <role name>",
  short: "Adds a new role",
  examples: ["etcdctl-ts role add reader"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("role add command requires role name as its argument");
    const name = ctx.args[0] as string;
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).roleAdd({ name }, call))
      .catch((e: unknown) => failWith(e));
    show(s, AuthRoleAddResponseSchema, r, () => line(s, `Role ${name} created`));
  },
};

const roleDelete: CommandSpec = {
  name: "delete",
  use: "delete <role name>",
  short: "Deletes a role",
  examples: ["etcdctl-ts role delete reader"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("role delete command requires role name as its argument");
    const role = ctx.args[0] as string;
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).roleDelete({ role }, call))
      .catch((e: unknown) => failWith(e));
    show(s, AuthRoleDeleteResponseSchema, r, () => line(s, `Role ${role} deleted`));
  },
};

const roleGet: CommandSpec = {
  name: "get",
  use: "get <role name>",
  short: "Gets detailed information of a role",
  examples: ["etcdctl-ts role get reader"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("role get command requires role name as its argument");
    const role = ctx.args[0] as string;
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).roleGet({ role }, call), { safe: true })
      .catch((e: unknown) => failWith(e));
    show(s, AuthRoleGetResponseSchema, r, () => printRoleDetail(s, role, r));
  },
};

const roleList: CommandSpec = {
  name: "list",
  use: "list",
  short: "Lists all roles",
  examples: ["etcdctl-ts role list"],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("role list command requires no arguments");
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).roleList({}, call), { safe: true })
      .catch((e: unknown) => failWith(e));
    show(s, AuthRoleListResponseSchema, r, () => {
      for (const role of r.roles) line(s, role);
    });
  },
};

const PERM_TYPES: Record<string, Permission_Type> = {
  READ: Permission_Type.READ,
  WRITE: Permission_Type.WRITE,
  READWRITE: Permission_Type.READWRITE,
};

const roleGrant: CommandSpec = {
  name: "grant-permission",
  use: "grant-permission [options] <role name> <permission type> <key> [endkey]",
  short: "Grants a key to a role",
  flags: [
    {
      name: "from-key",
      kind: "bool",
      defaultValue: false,
      usage: "grant a permission of keys that are greater than or equal to the given key using byte compare",
    },
    { name: "prefix", kind: "bool", defaultValue: false, usage: "grant a prefix permission" },
  ],
  examples: [
    "etcdctl-ts role grant-permission reader read /app/ --prefix",
    "etcdctl-ts role grant-permission writer readwrite a z",
  ],
  async run(ctx) {
    if (ctx.args.length < 3)
      throw badArgs(
        "role grant command requires role name, permission type, and key [endkey] as its argument",
      );
    const [name, typeText] = ctx.args as [string, string];
    const permType = PERM_TYPES[typeText.toUpperCase()];
    if (permType === undefined) throw badArgs(`invalid permission type: ${typeText}`);
    const range = permRange(ctx.args.slice(2), ctx.flag("prefix"), ctx.flag("from-key"));
    const s = ctx.session;
    const r = await s
      .unary((ep, call) =>
        ep
          .client(Auth)
          .roleGrantPermission({ name, perm: { permType, key: range.key, rangeEnd: range.rangeEnd } }, call),
      )
      .catch((e: unknown) => failWith(e));
    show(s, AuthRoleGrantPermissionResponseSchema, r, () => line(s, `Role ${name} updated`));
  },
};

const roleRevoke: CommandSpec = {
  name: "revoke-permission",
  use: "revoke-permission <role name> <key> [endkey]",
  short: "Revokes a key from a role",
  flags: [
    {
      name: "from-key",
      kind: "bool",
      defaultValue: false,
      usage: "revoke a permission of keys that are greater than or equal to the given key using byte compare",
    },
    { name: "prefix", kind: "bool", defaultValue: false, usage: "revoke a prefix permission" },
  ],
  examples: ["etcdctl-ts role revoke-permission reader /app/ --prefix"],
  async run(ctx) {
    if (ctx.args.length < 2)
      throw badArgs("role revoke-permission command requires role name and key [endkey] as its argument");
    const role = ctx.args[0] as string;
    const range = permRange(ctx.args.slice(1), ctx.flag("prefix"), ctx.flag("from-key"));
    const s = ctx.session;
    const r = await s
      .unary((ep, call) =>
        ep.client(Auth).roleRevokePermission({ role, key: range.key, rangeEnd: range.rangeEnd }, call),
      )
      .catch((e: unknown) => failWith(e));
    show(s, AuthRoleRevokePermissionResponseSchema, r, () => {
      const key = Buffer.from(range.key).toString("utf8");
      const end = Buffer.from(range.rangeEnd).toString("utf8");
      if (range.rangeEnd.length === 0) line(s, `Permission of key ${key} is revoked from role ${role}`);
      else if (end === "\0")
        line(s, `Permission of range [${key}, <open ended>) is revoked from role ${role}`);
      else line(s, `Permission of range [${key}, ${end}) is revoked from role ${role}`);
    });
  },
};

/** role is the `role` command group. */
export const role: CommandSpec = {
  name: "role",
  use: "role <subcommand>",
  short: "Role related commands",
  examples: ["etcdctl-ts role add reader", "etcdctl-ts role grant-permission reader read /app/ --prefix"],
  subcommands: [roleAdd, roleDelete, roleGet, roleGrant, roleList, roleRevoke],
};

// ---------------------------------------------------------------- users

/** readPassword reads a password: a word from stdin, or (interactive) with a prompt. */
async function readPassword(s: Session, interactive: boolean, prompt: string): Promise<string> {
  if (interactive) s.err(prompt);
  for await (const l of s.io.stdinLines()) {
    return interactive ? l.replace(/\r$/, "") : (l.trim().split(/\s+/)[0] ?? "");
  }
  return "";
}

const userAdd: CommandSpec = {
  name: "add",
  use: "add <user name or user:password> [options]",
  short: "Adds a new user",
  flags: [
    {
      name: "interactive",
      kind: "bool",
      defaultValue: true,
      usage: "Read password from stdin instead of interactive terminal",
    },
    {
      name: "new-user-password",
      kind: "string",
      defaultValue: "",
      usage: "Supply password from the command line flag",
    },
    {
      name: "no-password",
      kind: "bool",
      defaultValue: false,
      usage: "Create a user without password (CN based auth only)",
    },
  ],
  examples: [
    "etcdctl-ts user add alice:secret --interactive=false",
    "etcdctl-ts user add bob   # prompts for the password",
  ],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("user add command requires user name as its argument");
    const s = ctx.session;
    let name = ctx.args[0] as string;
    let password = "";
    const noPassword = ctx.flag<boolean>("no-password");
    if (!noPassword) {
      const fromFlag = ctx.flag<string>("new-user-password");
      if (fromFlag !== "") {
        password = fromFlag;
      } else {
        const colon = name.indexOf(":");
        if (colon < 0) {
          const interactive = ctx.flag<boolean>("interactive");
          password = await readPassword(s, interactive, `Password of ${name}: `);
          if (interactive) {
            const again = await readPassword(s, true, `Type password of ${name} again for confirmation: `);
            if (again !== password) throw badArgs("given passwords are different.");
          }
        } else {
          password = name.slice(colon + 1);
          name = name.slice(0, colon);
          if (name === "") throw badArgs("empty user name is not allowed");
        }
      }
    }
    const r = await s
      .unary((ep, call) => ep.client(Auth).userAdd({ name, password, options: { noPassword } }, call), {
        timeoutMs: 0,
      })
      .catch((e: unknown) => failWith(e));
    show(s, AuthUserAddResponseSchema, r, () => line(s, `User ${name} created`));
  },
};

const userDelete: CommandSpec = {
  name: "delete",
  use: "delete <user name>",
  short: "Deletes a user",
  examples: ["etcdctl-ts user delete alice"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("user delete command requires user name as its argument");
    const name = ctx.args[0] as string;
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).userDelete({ name }, call))
      .catch((e: unknown) => failWith(e));
    show(s, AuthUserDeleteResponseSchema, r, () => line(s, `User ${name} deleted`));
  },
};

const userGet: CommandSpec = {
  name: "get",
  use: "get <user name> [options]",
  short: "Gets detailed information of a user",
  flags: [
    {
      name: "detail",
      kind: "bool",
      defaultValue: false,
      usage: "Show permissions of roles granted to the user",
    },
  ],
  examples: ["etcdctl-ts user get alice --detail"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("user get command requires user name as its argument");
    const name = ctx.args[0] as string;
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).userGet({ name }, call), { safe: true })
      .catch((e: unknown) => failWith(e));
    if (ctx.flag<boolean>("detail")) {
      formatOf(s);
      line(s, `User: ${name}`);
      for (const role of r.roles) {
        line(s, "");
        const rr = await s
          .unary((ep, call) => ep.client(Auth).roleGet({ role }, call), { safe: true })
          .catch((e: unknown) => failWith(e));
        show(s, AuthRoleGetResponseSchema, rr, () => printRoleDetail(s, role, rr));
      }
      return;
    }
    show(s, AuthUserGetResponseSchema, r, () =>
      line(s, `User: ${name}\nRoles:${r.roles.map((x) => ` ${x}`).join("")}`),
    );
  },
};

const userList: CommandSpec = {
  name: "list",
  use: "list",
  short: "Lists all users",
  examples: ["etcdctl-ts user list"],
  async run(ctx) {
    if (ctx.args.length !== 0) throw badArgs("user list command requires no arguments");
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).userList({}, call), { safe: true })
      .catch((e: unknown) => failWith(e));
    show(s, AuthUserListResponseSchema, r, () => {
      for (const u of r.users) line(s, u);
    });
  },
};

const userPasswd: CommandSpec = {
  name: "passwd",
  use: "passwd <user name> [options]",
  short: "Changes password of user",
  flags: [
    {
      name: "interactive",
      kind: "bool",
      defaultValue: true,
      usage: "If true, read password from stdin instead of interactive terminal",
    },
  ],
  examples: ["echo newpw | etcdctl-ts user passwd alice --interactive=false"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("user passwd command requires user name as its argument");
    const name = ctx.args[0] as string;
    const s = ctx.session;
    const interactive = ctx.flag<boolean>("interactive");
    const password = await readPassword(s, interactive, `Password of ${name}: `);
    if (interactive) {
      const again = await readPassword(s, true, `Type password of ${name} again for confirmation: `);
      if (again !== password) throw badArgs("given passwords are different.");
    }
    const r = await s
      .unary((ep, call) => ep.client(Auth).userChangePassword({ name, password }, call))
      .catch((e: unknown) => failWith(e));
    show(s, AuthUserChangePasswordResponseSchema, r, () => line(s, "Password updated"));
  },
};

const userGrant: CommandSpec = {
  name: "grant-role",
  use: "grant-role <user name> <role name>",
  short: "Grants a role to a user",
  examples: ["etcdctl-ts user grant-role alice reader"],
  async run(ctx) {
    if (ctx.args.length !== 2)
      throw badArgs("user grant command requires user name and role name as its argument");
    const [user, roleName] = ctx.args as [string, string];
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).userGrantRole({ user, role: roleName }, call))
      .catch((e: unknown) => failWith(e));
    show(s, AuthUserGrantRoleResponseSchema, r, () => line(s, `Role ${roleName} is granted to user ${user}`));
  },
};

const userRevoke: CommandSpec = {
  name: "revoke-role",
  use: "revoke-role <user name> <role name>",
  short: "Revokes a role from a user",
  examples: ["etcdctl-ts user revoke-role alice reader"],
  async run(ctx) {
    if (ctx.args.length !== 2)
      throw badArgs("user revoke-role requires user name and role name as its argument");
    const [name, roleName] = ctx.args as [string, string];
    const s = ctx.session;
    const r = await s
      .unary((ep, call) => ep.client(Auth).userRevokeRole({ name, role: roleName }, call))
      .catch((e: unknown) => failWith(e));
    show(s, AuthUserRevokeRoleResponseSchema, r, () =>
      line(s, `Role ${roleName} is revoked from user ${name}`),
    );
  },
};

/** user is the `user` command group. */
export const user: CommandSpec = {
  name: "user",
  use: "user <subcommand>",
  short: "User related commands",
  examples: [
    "etcdctl-ts user add alice:secret --interactive=false",
    "etcdctl-ts user grant-role alice reader",
  ],
  subcommands: [userAdd, userDelete, userGet, userGrant, userList, userPasswd, userRevoke],
};
