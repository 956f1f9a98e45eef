/**
 * AuthErrorCode names every operating error of the auth store. The server maps each code to a gRPC status
 * in its one error table; the message text is etcd's, so clients that match strings keep working.
 */
export type AuthErrorCode =
  | "rootUserNotExist"
  | "rootRoleNotExist"
  | "userAlreadyExist"
  | "userEmpty"
  | "userNotFound"
  | "roleAlreadyExist"
  | "roleNotFound"
  | "roleEmpty"
  | "authFailed"
  | "noPasswordUser"
  | "permissionNotGiven"
  | "permissionDenied"
  | "roleNotGranted"
  | "permissionNotGranted"
  | "authNotEnabled"
  | "invalidAuthToken"
  | "invalidAuthMgmt"
  | "authOldRevision"
  | "passwordTooShort"
  | "invalidAuthOpts"
  | "invalidAuthMethod"
  | "missingKey"
  | "keyMismatch"
  | "verifyOnly";

/**
 * authErrorMessages is the exact text for each code. The `etcdserver:` texts are those of etcd's
 * api/v3rpc/rpctypes/error.go as a client sees them; the `auth:` texts are configuration errors that etcd
 * reports at start-up (server/auth/store.go) and never sends to a client. "password is too short" is ours:
 * etcd enforces no minimum length on the server (CVE-2020-15115 was fixed in etcdctl).
 */
export const authErrorMessages: Readonly<Record<AuthErrorCode, string>> = {
  rootUserNotExist: "etcdserver: root user does not exist",
  rootRoleNotExist: "etcdserver: root user does not have root role",
  userAlreadyExist: "etcdserver: user name already exists",
  userEmpty: "etcdserver: user name is empty",
  userNotFound: "etcdserver: user name not found",
  roleAlreadyExist: "etcdserver: role name already exists",
  roleNotFound: "etcdserver: role name not found",
  roleEmpty: "etcdserver: role name is empty",
  authFailed: "etcdserver: authentication failed, invalid user ID or password",
  // etcd's own text for a password sent for a user created with --no-password (not in its gRPC table).
  noPasswordUser: "auth: authentication failed, password was given for no password user",
  permissionNotGiven: "etcdserver: permission not given",
  permissionDenied: "etcdserver: permission denied",
  roleNotGranted: "etcdserver: role is not granted to the user",
  permissionNotGranted: "etcdserver: permission is not granted to the role",
  authNotEnabled: "etcdserver: authentication is not enabled",
  invalidAuthToken: "etcdserver: invalid auth token",
  invalidAuthMgmt: "etcdserver: invalid auth management",
  authOldRevision: "etcdserver: revision of auth store is old",
  passwordTooShort: "etcdserver: password is too short",
  invalidAuthOpts: "auth: invalid auth options",
  invalidAuthMethod: "auth: invalid auth signature method",
  missingKey: "auth: missing key data",
  keyMismatch: "auth: public and private keys don't match",
  verifyOnly: "auth: token signing attempted with verify-only key",
};

/**
 * AuthError is an operating error of the auth store (bad input, missing user, denied permission). Its
 * message is etcd's exact text for {@link AuthError.code}; `detail` carries extra context for logs only
 * and never contains a password or a token.
 */
export class AuthError extends Error {
  /** code identifies the error independently of its text. */
  readonly code: AuthErrorCode;
  /** detail is optional context for logs (a file name, an option string). */
  readonly detail: string | undefined;

  constructor(code: AuthErrorCode, detail?: string) {
    super(authErrorMessages[code]);
    this.name = "AuthError";
    this.code = code;
    this.detail = detail;
  }
}

/** isAuthError tells whether `error` is an {@link AuthError}, optionally with the given code. */
export function isAuthError(error: unknown, code?: AuthErrorCode): error is AuthError {
  return error instanceof AuthError && (code === undefined || error.code === code);
}
