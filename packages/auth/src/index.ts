/**
 * @etcd-ts/auth: etcd's RBAC. Users, roles and key-range permissions kept in the shared backend and changed
 * only by applied raft entries; bcrypt password hashing before proposal; simple and JWT tokens; and the
 * permission checks the apply path makes for every request kind.
 */
export type { AuthBackendReader, AuthBatch, LevelSublevel } from "./auth-backend.js";
export { levelAuthReader } from "./auth-backend.js";
export type { AuthStatus, AuthStoreOptions } from "./auth-store.js";
export { AuthStore, rootRole, rootUser } from "./auth-store.js";
export type { AuthErrorCode } from "./errors.js";
export { AuthError, authErrorMessages, isAuthError } from "./errors.js";
export { parseGoDurationMs } from "./go-duration.js";
export type { JwtKeyMaterial, JwtSignMethod, JwtTokenOptions } from "./jwt-token.js";
export { defaultJwtTtlMs, JwtTokenProvider, jwtSignMethods } from "./jwt-token.js";
export type { KeyInterval } from "./key-interval.js";
export { compareKeys, isValidPermissionRange, permissionInterval, requestInterval } from "./key-interval.js";
export { MemoryAuthBackend } from "./memory-auth-backend.js";
export type { PasswordPolicy } from "./password.js";
export {
  comparePassword,
  decodeHashedPassword,
  defaultBcryptCost,
  hashPassword,
  maxBcryptCost,
  minBcryptCost,
  normalizeBcryptCost,
} from "./password.js";
export { prepareUserAddProposal, prepareUserChangePasswordProposal } from "./password-proposal.js";
export type { AccessKind, CheckedRequest, LeaseKeysLookup, PermissionState } from "./permission-check.js";
export {
  checkAdminPermitted,
  checkDeleteRangePermitted,
  checkPutPermitted,
  checkRangePermitted,
  checkRequest,
  checkTxnPermitted,
} from "./permission-check.js";
export type { UserPermissions } from "./range-perm-cache.js";
export { IntervalSet, mergePermissions } from "./range-perm-cache.js";
export type { SimpleTokenOptions } from "./simple-token.js";
export { defaultSimpleTokenTtlMs, SimpleTokenProvider } from "./simple-token.js";
export type { AuthTokenOption, TokenProviderEnvironment } from "./token-options.js";
export { createTokenProvider, parseAuthTokenOption } from "./token-options.js";
export type { AuthInfo, TokenAssignContext, TokenProvider } from "./token-provider.js";
