#!/usr/bin/env node
/**
 * etcdctl-ts: the binary. Runs one command and exits with its code.
 */
import { execute } from "./command.js";
import { program } from "./program.js";
import { StdinReader } from "./stdin-reader.js";

const stdin = new StdinReader(process.stdin);
const write = (stream: NodeJS.WriteStream) => (text: string | Uint8Array) => {
  stream.write(text);
};
const code = await execute(program, process.argv.slice(2), {
  stdout: write(process.stdout),
  stderr: write(process.stderr),
  readStdin: () => stdin.readAll(),
  stdinLines: () => stdin.lines(),
  isTTY: process.stderr.isTTY === true,
  env: process.env,
});
stdin.pause();
process.exitCode = code;
// Flush stdout and stderr, then leave even if a stream or timer is still open.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
