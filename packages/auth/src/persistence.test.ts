/**
 * The auth store over a real classic-level database: a persistence round trip through the auth sublevel,
 * and the "no plaintext" guarantee: after adding users and changing passwords, neither the backend files nor
 * the proposals (the WAL's payload, written to a fixture file) contain any password.
 */

import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Permission_Type, PermissionSchema } from "@etcd-ts/proto/authpb";
import {
  AuthRoleGrantPermissionRequestSchema,
  AuthUserAddRequestSchema,
  AuthUserChangePasswordRequestSchema,
  AuthUserGrantRoleRequestSchema,
} from "@etcd-ts/proto/etcdserverpb";
import { type InternalRequest, InternalRequestSchema } from "@etcd-ts/proto/internal/request";
import { ClassicLevel } from "classic-level";
import { afterEach, describe, expect, it } from "vitest";
import { type AuthBatch, levelAuthReader } from "./auth-backend.js";
import { AuthStore } from "./auth-store.js";
import { hashPassword } from "./password.js";

type Bytes = Uint8Array;
const te = new TextEncoder();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openDb(path: string) {
  const db = new ClassicLevel<Bytes, Bytes>(path, { keyEncoding: "view", valueEncoding: "view" });
  const auth = db.sublevel<Bytes, Bytes>("auth", { keyEncoding: "view", valueEncoding: "view" });
  const kv = db.sublevel<Bytes, Bytes>("kv", { keyEncoding: "view", valueEncoding: "view" });
  return { db, auth, kv };
}

/** Applies proposals the way the server does: one atomic batch per entry, auth scoped to its sublevel. */
async function applyEntry(
  handle: ReturnType<typeof openDb>,
  walFile: string,
  request: InternalRequest,
  apply: (batch: AuthBatch) => void,
): Promise<void> {
  const encoded = toBinary(InternalRequestSchema, request);
  appendFileSync(walFile, encoded); // what raft would log
  const batch = handle.db.batch();
  apply({
    put: (key, value) => batch.put(key, value, { sublevel: handle.auth }),
    del: (key) => batch.del(key, { sublevel: handle.auth }),
  });
  await batch.write({ sync: true });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function contains(haystack: Buffer, needle: string): boolean {
  return haystack.includes(Buffer.from(needle, "utf8"));
}

describe("auth over classic-level", () => {
  it("persists through the auth sublevel and reloads on open; no plaintext password reaches disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "etcd-ts-auth-db-"));
    dirs.push(dir);
    const dbPath = join(dir, "db");
    const walFile = join(dir, "wal.fixture");
    const passwords = ["Tr0ub4dor&3-first", "correct horse battery staple", "s3cond-passw0rd!"];
    const policy = { bcryptCost: 4, minPasswordLength: 8 };

    const handle = openDb(dbPath);
    await handle.db.open();
    const store = await AuthStore.open(levelAuthReader(handle.auth));

    const userAdd = async (name: string, password: string) => {
      // The API layer hashes BEFORE proposing; the proposal only carries hashedPassword.
      const req = create(AuthUserAddRequestSchema, {
        name,
        hashedPassword: await hashPassword(password, policy),
      });
      await applyEntry(
        handle,
        walFile,
        create(InternalRequestSchema, { request: { case: "userAdd", value: req } }),
        (b) => store.applyUserAdd(b, req),
      );
    };
    await userAdd("root", passwords[0] as string);
    await userAdd("alice", passwords[1] as string);
    const grant = create(AuthUserGrantRoleRequestSchema, { user: "root", role: "root" });
    await applyEntry(
      handle,
      walFile,
      create(InternalRequestSchema, { request: { case: "userGrantRole", value: grant } }),
      (b) => store.applyUserGrantRole(b, grant),
    );
    await applyEntry(
      handle,
      walFile,
      create(InternalRequestSchema, { request: { case: "roleAdd", value: { name: "r" } } }),
      (b) => store.applyRoleAdd(b, { name: "r" }),
    );
    const perm = create(AuthRoleGrantPermissionRequestSchema, {
      name: "r",
      perm: create(PermissionSchema, {
        permType: Permission_Type.READ,
        key: te.encode("/a/"),
        rangeEnd: te.encode("/a0"),
      }),
    });
    await applyEntry(
      handle,
      walFile,
      create(InternalRequestSchema, { request: { case: "roleGrantPermission", value: perm } }),
      (b) => store.applyRoleGrantPermission(b, perm),
    );
    const changePw = create(AuthUserChangePasswordRequestSchema, {
      name: "alice",
      hashedPassword: await hashPassword(passwords[2] as string, policy),
    });
    await applyEntry(
      handle,
      walFile,
      create(InternalRequestSchema, { request: { case: "userChangePassword", value: changePw } }),
      (b) => store.applyUserChangePassword(b, changePw),
    );
    await applyEntry(
      handle,
      walFile,
      create(InternalRequestSchema, { request: { case: "authEnable", value: {} } }),
      (b) => store.applyAuthEnable(b),
    );
    // A positive control for the scan: a plaintext value the kv store really holds must be found.
    const canary = "canary-plaintext-value-7f3a9c";
    await handle.kv.put(te.encode("k"), te.encode(canary));
    const status = store.status();
    await handle.db.close();

    // Reload from disk.
    const again = openDb(dbPath);
    await again.db.open();
    const reloaded = await AuthStore.open(levelAuthReader(again.auth));
    expect(reloaded.status()).toEqual(status);
    expect(reloaded.status().enabled).toBe(true);
    expect(reloaded.userList()).toEqual(["alice", "root"]);
    expect(reloaded.userGet("root").roles).toEqual(["root"]);
    expect(reloaded.roleGet("r")).toEqual(store.roleGet("r"));
    await expect(reloaded.checkPassword("alice", passwords[2] as string)).resolves.toBe(status.authRevision);
    await expect(reloaded.checkPassword("alice", passwords[1] as string)).rejects.toThrow();
    await expect(reloaded.checkPassword("root", passwords[0] as string)).resolves.toBe(status.authRevision);
    await again.db.close();

    // No plaintext anywhere on disk.
    const files = [...filesUnder(dbPath), walFile];
    const everything = Buffer.concat(files.map((file) => readFileSync(file)));
    expect(contains(everything, canary)).toBe(true);
    for (const password of passwords) expect(contains(everything, password), password).toBe(false);
  }, 60_000);
});
