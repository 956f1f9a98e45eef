/**
 * Typed errors of etcdctl-ts. Each carries the exit code etcdctl uses for the same failure, and its message
 * is the text etcdctl prints after "Error: ".
 */

/** ExitCode values are etcdctl's (ctlv3/command/error.go's constants). */
export const ExitCode = {
  success: 0,
  error: 1,
  badConnection: 2,
  invalidInput: 3,
  badFeature: 4,
  interrupted: 5,
  io: 6,
  badArgs: 128,
} as const;

/** ExitCodeValue is one of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** ExitError ends the command: "Error: <message>" on stderr and the exit code. */
export class ExitError extends Error {
  /** exitCode is the process exit code. */
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
    this.name = "ExitError";
  }
}

/**
 * UsageError is a bad flag or argument found while parsing: etcdctl prints the error, the command's usage,
 * and the error again, and exits with 1.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** badArgs is etcdctl's ExitBadArgs error (exit code 128). */
export function badArgs(message: string): ExitError {
  return new ExitError(ExitCode.badArgs, message);
}

const GO_ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
};

/**
 * goPathErrorText is the text of Go's *os.PathError for a file that could not be read whole
 * ("open /x: no such file or directory", "read /tmp: is a directory"), which etcdctl prints as it is.
 */
export function goPathErrorText(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const why = GO_ERRNO_TEXT[code];
  if (why === undefined) return (err as Error).message;
  return `${code === "EISDIR" ? "read" : "open"} ${path}: ${why}`;
}
