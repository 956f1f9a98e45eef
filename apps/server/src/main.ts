#!/usr/bin/env node
import { EtcdServer, validateConfig } from "@etcd-ts/server";
import { parseFlags } from "./flags.js";

/**
 * etcd-ts: starts one member with etcd's flags, and stops it cleanly on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof parseFlags>;
  try {
    config = parseFlags(process.argv.slice(2), process.env);
    validateConfig(config);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message: string };
    // --help and --version are not errors.
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") process.exit(0);
    if (e.code?.startsWith("commander.") !== true) process.stderr.write(`etcd-ts: ${e.message}\n`);
    process.exit(1);
  }
  const server = new EtcdServer(config);
  try {
    await server.start();
  } catch (err) {
    process.stderr.write(`etcd-ts: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, "received signal; shutting down");
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`etcd-ts: error while stopping: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
