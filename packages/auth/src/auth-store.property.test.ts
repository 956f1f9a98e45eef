/**
 * Random histories of auth changes: a refused change writes nothing, and reopening the store from what the
 * batches wrote always gives back exactly the in-memory state (users, roles, permissions, flag, revision).
 */
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
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AuthBatch } from "./auth-backend.js";
import { AuthStore } from "./auth-store.js";
import { isAuthError } from "./errors.js";
import { MemoryAuthBackend } from "./memory-auth-backend.js";

const runs = Number(process.env.AUTH_PROPERTY_RUNS ?? 10_000) / 10;
const hashA = Buffer.from(`$2a$04$${"a".repeat(53)}`).toString("base64");
const hashB = Buffer.from(`$2a$04$${"b".repeat(53)}`).toString("base64");
const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

const name = fc.constantFrom("root", "u", "v");
const role = fc.constantFrom("root", "r", "s");
const key = fc.constantFrom("a", "b", "ab", "\0");
const end = fc.constantFrom("", "\0", "b", "c");
type Change = (store: AuthStore, batch: AuthBatch) => void;

const changeArb: fc.Arbitrary<[string, Change]> = fc.oneof(
  fc.record({ user: name, noPassword: fc.boolean() }).map(({ user, noPassword }): [string, Change] => [
    `add ${user}`,
    (s, b) =>
      s.applyUserAdd(
        b,
        create(AuthUserAddRequestSchema, {
          name: user,
          hashedPassword: noPassword ? "" : hashA,
          options: create(UserAddOptionsSchema, { noPassword }),
        }),
      ),
  ]),
  name.map((user): [string, Change] => [`del ${user}`, (s, b) => s.applyUserDelete(b, { name: user })]),
  name.map((user): [string, Change] => [
    `passwd ${user}`,
    (s, b) =>
      s.applyUserChangePassword(
        b,
        create(AuthUserChangePasswordRequestSchema, { name: user, hashedPassword: hashB }),
      ),
  ]),
  fc
    .record({ user: name, role })
    .map(({ user, role }): [string, Change] => [
      `grant ${role} to ${user}`,
      (s, b) => s.applyUserGrantRole(b, create(AuthUserGrantRoleRequestSchema, { user, role })),
    ]),
  fc
    .record({ user: name, role })
    .map(({ user, role }): [string, Change] => [
      `revoke ${role} from ${user}`,
      (s, b) => s.applyUserRevokeRole(b, create(AuthUserRevokeRoleRequestSchema, { name: user, role })),
    ]),
  role.map((r): [string, Change] => [`role add ${r}`, (s, b) => s.applyRoleAdd(b, { name: r })]),
  role.map((r): [string, Change] => [`role del ${r}`, (s, b) => s.applyRoleDelete(b, { role: r })]),
  fc
    .record({
      role,
      key,
      end,
      type: fc.constantFrom(Permission_Type.READ, Permission_Type.WRITE, Permission_Type.READWRITE),
    })
    .map(({ role, key, end, type }): [string, Change] => [
      `perm ${type} ${role} ${JSON.stringify([key, end])}`,
      (s, b) =>
        s.applyRoleGrantPermission(
          b,
          create(AuthRoleGrantPermissionRequestSchema, {
            name: role,
            perm: create(PermissionSchema, { permType: type, key: bytes(key), rangeEnd: bytes(end) }),
          }),
        ),
    ]),
  fc
    .record({ role, key, end })
    .map(({ role, key, end }): [string, Change] => [
      `unperm ${role} ${JSON.stringify([key, end])}`,
      (s, b) =>
        s.applyRoleRevokePermission(
          b,
          create(AuthRoleRevokePermissionRequestSchema, { role, key: bytes(key), rangeEnd: bytes(end) }),
        ),
    ]),
  fc.constant<[string, Change]>(["enable", (s, b) => s.applyAuthEnable(b)]),
  fc.constant<[string, Change]>(["disable", (s, b) => s.applyAuthDisable(b)]),
);

function snapshot(store: AuthStore) {
  const users = store.userList().map((u) => [u, store.userGet(u).roles] as const);
  const roles = store.roleList().map((r) => [r, store.roleGet(r)] as const);
  return { status: store.status(), users, roles };
}

describe("AuthStore persistence", () => {
  it("reopening gives back the state; refused changes write nothing and change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(changeArb, { maxLength: 40 }), async (changes) => {
        const backend = new MemoryAuthBackend();
        const store = new AuthStore();
        // Start from a populated store so that deletions and revocations have something to act on.
        const preamble: Array<[string, Change]> = [
          [
            "add u",
            (st, b) =>
              st.applyUserAdd(b, create(AuthUserAddRequestSchema, { name: "u", hashedPassword: hashA })),
          ],
          [
            "add v",
            (st, b) =>
              st.applyUserAdd(b, create(AuthUserAddRequestSchema, { name: "v", hashedPassword: hashA })),
          ],
          ["role add r", (st, b) => st.applyRoleAdd(b, { name: "r" })],
          ["role add s", (st, b) => st.applyRoleAdd(b, { name: "s" })],
          [
            "grant r",
            (st, b) =>
              st.applyUserGrantRole(b, create(AuthUserGrantRoleRequestSchema, { user: "u", role: "r" })),
          ],
          [
            "grant s",
            (st, b) =>
              st.applyUserGrantRole(b, create(AuthUserGrantRoleRequestSchema, { user: "v", role: "s" })),
          ],
        ];
        for (const [label, change] of [...preamble, ...changes]) {
          const before = snapshot(store);
          const batch = backend.batch();
          try {
            change(store, batch);
          } catch (error) {
            if (!isAuthError(error)) throw error;
            expect(batch.size, label).toBe(0);
            expect(snapshot(store), label).toEqual(before);
            continue;
          }
          batch.write();
        }
        const reopened = await AuthStore.open(backend);
        expect(snapshot(reopened)).toEqual(snapshot(store));
      }),
      { numRuns: runs },
    );
  }, 120_000);
});
