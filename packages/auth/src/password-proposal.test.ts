import { create, toBinary } from "@bufbuild/protobuf";
import { UserAddOptionsSchema } from "@etcd-ts/proto/authpb";
import { AuthUserAddRequestSchema, AuthUserChangePasswordRequestSchema } from "@etcd-ts/proto/etcdserverpb";
import { describe, expect, it } from "vitest";
import { authErrorMessages } from "./errors.js";
import { comparePassword, decodeHashedPassword } from "./password.js";
import { prepareUserAddProposal, prepareUserChangePasswordProposal } from "./password-proposal.js";

const policy = { bcryptCost: 4, minPasswordLength: 6 };

describe("preparing password proposals", () => {
  it("replaces the plaintext with a bcrypt hash, leaving no trace of it in the encoded proposal", async () => {
    const request = create(AuthUserAddRequestSchema, { name: "bob", password: "hunter22" });
    const proposal = await prepareUserAddProposal(request, policy);
    expect(proposal.password).toBe("");
    expect(request.password).toBe("hunter22"); // the caller's request is not mutated
    const bytes = Buffer.from(toBinary(AuthUserAddRequestSchema, proposal));
    expect(bytes.includes(Buffer.from("hunter22"))).toBe(false);
    const stored = decodeHashedPassword(proposal.hashedPassword);
    expect(stored && (await comparePassword("hunter22", stored))).toBe(true);
  });

  it("drops any password of a no-password user", async () => {
    const proposal = await prepareUserAddProposal(
      create(AuthUserAddRequestSchema, {
        name: "svc",
        password: "ignored!",
        options: create(UserAddOptionsSchema, { noPassword: true }),
      }),
      policy,
    );
    expect(proposal.password).toBe("");
    expect(proposal.hashedPassword).toBe("");
  });

  it("keeps a valid client-side hash and refuses an invalid one", async () => {
    const first = await prepareUserAddProposal(
      create(AuthUserAddRequestSchema, { name: "a", password: "abcdefg" }),
      policy,
    );
    const kept = await prepareUserAddProposal(
      create(AuthUserAddRequestSchema, { name: "b", hashedPassword: first.hashedPassword }),
      policy,
    );
    expect(kept.hashedPassword).toBe(first.hashedPassword);
    await expect(
      prepareUserAddProposal(
        create(AuthUserAddRequestSchema, { name: "c", hashedPassword: "bm9wZQ==" }),
        policy,
      ),
    ).rejects.toThrow(authErrorMessages.invalidAuthMgmt);
  });

  it("enforces the policy and the user name", async () => {
    await expect(
      prepareUserAddProposal(create(AuthUserAddRequestSchema, { name: "x", password: "short" }), policy),
    ).rejects.toThrow(authErrorMessages.passwordTooShort);
    await expect(
      prepareUserAddProposal(create(AuthUserAddRequestSchema, { password: "longenough" }), policy),
    ).rejects.toThrow(authErrorMessages.userEmpty);
  });

  it("hashes a password change", async () => {
    const proposal = await prepareUserChangePasswordProposal(
      create(AuthUserChangePasswordRequestSchema, { name: "bob", password: "new-secret" }),
      policy,
    );
    expect(proposal.password).toBe("");
    const stored = decodeHashedPassword(proposal.hashedPassword);
    expect(stored && (await comparePassword("new-secret", stored))).toBe(true);
  });
});
