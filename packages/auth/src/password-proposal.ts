import { clone } from "@bufbuild/protobuf";
import {
  type AuthUserAddRequest,
  AuthUserAddRequestSchema,
  type AuthUserChangePasswordRequest,
  AuthUserChangePasswordRequestSchema,
} from "@etcd-ts/proto/etcdserverpb";
import { AuthError } from "./errors.js";
import { decodeHashedPassword, hashPassword, type PasswordPolicy } from "./password.js";

/**
 * prepareUserAddProposal turns a client's UserAdd into what may be proposed: the plaintext `password` is
 * hashed into `hashedPassword` and cleared, so it never reaches the raft log. A `noPassword` user keeps no
 * password at all. A client that already sent a `hashedPassword` (and no password) keeps it if it is a
 * bcrypt hash. Throws `userEmpty`, `passwordTooShort` or `invalidAuthMgmt`.
 */
export async function prepareUserAddProposal(
  request: AuthUserAddRequest,
  policy: PasswordPolicy = {},
): Promise<AuthUserAddRequest> {
  if (request.name.length === 0) throw new AuthError("userEmpty");
  const proposal = clone(AuthUserAddRequestSchema, request);
  proposal.password = "";
  if (request.options?.noPassword ?? false) {
    proposal.hashedPassword = "";
    return proposal;
  }
  proposal.hashedPassword = await hashOrKeep(request.password, request.hashedPassword, policy);
  return proposal;
}

/**
 * prepareUserChangePasswordProposal hashes a UserChangePassword's plaintext password into `hashedPassword`
 * and clears it; see {@link prepareUserAddProposal}.
 */
export async function prepareUserChangePasswordProposal(
  request: AuthUserChangePasswordRequest,
  policy: PasswordPolicy = {},
): Promise<AuthUserChangePasswordRequest> {
  const proposal = clone(AuthUserChangePasswordRequestSchema, request);
  proposal.password = "";
  proposal.hashedPassword = await hashOrKeep(request.password, request.hashedPassword, policy);
  return proposal;
}

async function hashOrKeep(password: string, hashedPassword: string, policy: PasswordPolicy): Promise<string> {
  if (password.length === 0 && hashedPassword.length > 0) {
    if (decodeHashedPassword(hashedPassword) === undefined) {
      throw new AuthError("invalidAuthMgmt", "hashedPassword is not a bcrypt hash");
    }
    return hashedPassword;
  }
  return hashPassword(password, policy);
}
