/**
 * The command tree's help: every command (groups and leaves) shows examples under --help, as issue 12 asks,
 * and `help <command>` prints the same as `<command> --help`.
 */
import { describe, expect, it } from "vitest";
import { type CommandSpec, execute } from "./command.js";
import { program } from "./program.js";
import type { Io } from "./session.js";

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[]): Promise<Captured> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: (t) => {
      stdout += typeof t === "string" ? t : Buffer.from(t).toString();
    },
    stderr: (t) => {
      stderr += t;
    },
    readStdin: async () => Buffer.alloc(0),
    stdinLines: async function* () {},
    isTTY: false,
    env: {},
  };
  const code = await execute(program, argv, io);
  return { code, stdout, stderr };
}

/** commandPaths lists the words of every visible command, the root's being []. */
function commandPaths(cmd: CommandSpec, words: string[] = []): string[][] {
  if (cmd.hidden === true) return [];
  return [words, ...(cmd.subcommands ?? []).flatMap((c) => commandPaths(c, [...words, c.name]))];
}

const paths = commandPaths(program);

describe("help", () => {
  it("walks a tree with every command of issue 12", () => {
    const names = new Set(paths.map((p) => p.join(" ")));
    for (const name of ["get", "txn", "watch", "lease keep-alive", "member promote", "endpoint hashkv"])
      expect(names).toContain(name);
    for (const name of ["snapshot save", "move-leader", "lock", "elect", "auth status", "user passwd"])
      expect(names).toContain(name);
    for (const name of ["role revoke-permission", "check perf", "make-mirror", "version", "completion bash"])
      expect(names).toContain(name);
  });

  it.each(paths.map((p) => [p.join(" ") || "(root)", p]))(
    "%s --help shows its examples",
    async (_, words) => {
      const r = await run([...(words as string[]), "--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/\nEXAMPLES:\n\t[^\n]*etcdctl-ts /);
      expect(r.stdout).toMatch(/\nOPTIONS:\n/);
      // etcdctl's help ends with the flag list and one blank line.
      expect(r.stdout).toMatch(/[^\n]\n\n$/);
    },
  );

  it("help <command> prints the command's --help", async () => {
    expect(await run(["help", "lease", "grant"])).toEqual(await run(["lease", "grant", "--help"]));
    expect(await run(["help"])).toEqual(await run(["--help"]));
    expect((await run(["help", "lease", "nosuch"])).stdout).toBe((await run(["lease", "--help"])).stdout);
  });

  it("help with an unknown topic says so and prints the root usage", async () => {
    const r = await run(["help", "nosuch"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("Unknown help topic [`nosuch`]\n");
    expect(r.stdout).toMatch(/^NAME:\n\tetcdctl - /);
    expect(r.stdout).not.toContain("EXAMPLES:");
  });
});
