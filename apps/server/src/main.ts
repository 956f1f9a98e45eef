#!/usr/bin/env node
import { EtcdServer, type RestoreProgress, restoreSnapshot, validateConfig } from "@etcd-ts/server";
import { Command } from "commander";
import { parseFlags } from "./flags.js";

/**
 * snapshotCommand runs `etcd-ts snapshot restore <file> [flags]` (etcdutl's job): it seeds a new member's
 * data dir from a snapshot file, with a progress bar on a terminal and plain progress lines otherwise.
 */
async function snapshotCommand(argv: readonly string[]): Promise<number> {
  const program = new Command("etcd-ts snapshot")
    .description("manage etcd-ts snapshot files")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let code = 0;
  program
    .command("restore <file>")
    .description("restore a snapshot file (from etcdctl snapshot save) into a new member's data dir")
    .option("--data-dir <path>", "path to the data directory to create (default: <name>.etcd)")
    .option("--wal-dir <path>", "path to a dedicated WAL directory (default: <data-dir>/member/wal)")
    .option("--name <name>", "human-readable name for this member", "default")
    .option(
      "--initial-cluster <spec>",
      "initial cluster configuration for restore bootstrap (name=url,...)",
      "default=http://localhost:2380",
    )
    .option("--initial-cluster-token <token>", "initial cluster token for the new cluster", "etcd-cluster")
    .option(
      "--initial-advertise-peer-urls <urls>",
      "this member's peer URLs to advertise",
      "http://localhost:2380",
    )
    .option(
      "--skip-hash-check",
      "ignore the snapshot's integrity hash (needed for a db copied from a data dir)",
    )
    .action(async (file: string, opts: Record<string, string | boolean | undefined>) => {
      const name = opts.name as string;
      const dataDir = (opts.dataDir as string | undefined) ?? `${name}.etcd`;
      const progress = await progressReporter(file);
      try {
        const result = await restoreSnapshot({
          snapshotPath: file,
          dataDir,
          walDir: (opts.walDir as string | undefined) ?? "",
          name,
          initialCluster: opts.initialCluster as string,
          initialClusterToken: opts.initialClusterToken as string,
          initialAdvertisePeerUrls: (opts.initialAdvertisePeerUrls as string)
            .split(",")
            .map((u) => u.trim())
            .filter((u) => u !== ""),
          skipHashCheck: opts.skipHashCheck === true,
          onProgress: progress.update,
        });
        progress.stop();
        process.stdout.write(
          `restored snapshot ${file} into ${dataDir}: revision ${result.revision} (${result.revisions} revisions, ` +
            `compacted at ${result.compactRevision}), ${result.leases} leases, ${result.users} users, ` +
            `${result.roles} roles; member ${result.memberId.toString(16)} of new cluster ${result.clusterId.toString(16)}\n`,
        );
      } catch (err) {
        progress.stop();
        process.stderr.write(`etcd-ts: snapshot restore: ${(err as Error).message}\n`);
        code = 1;
      }
    });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    return e.code === "commander.helpDisplayed" || e.code === "commander.help" ? 0 : (e.exitCode ?? 1);
  }
  return code;
}

/** progressReporter draws a progress bar on a terminal, and prints a line every 10% otherwise. */
async function progressReporter(
  file: string,
): Promise<{ update: (p: RestoreProgress) => void; stop: () => void }> {
  if (process.stderr.isTTY) {
    // Loaded only for a restore on a terminal, not on every member start.
    const { SingleBar } = await import("cli-progress");
    const bar = new SingleBar({
      format: "restoring [{bar}] {percentage}% | {value}/{total} entries",
      stream: process.stderr,
      barCompleteChar: "#",
      barIncompleteChar: "-",
      hideCursor: true,
    });
    let started = false;
    return {
      update: ({ done, total }) => {
        if (!started) {
          bar.start(total, done);
          started = true;
        } else bar.update(done);
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let lastTenth = -1;
  return {
    update: ({ done, total }) => {
      const tenth = total === 0 ? 10 : Math.floor((done * 10) / total);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      process.stderr.write(`restoring ${file}: ${done}/${total} entries (${tenth * 10}%)\n`);
    },
    stop: () => {},
  };
}

/**
 * etcd-ts: starts one member with etcd's flags, and stops it cleanly on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  if (process.argv[2] === "snapshot") {
    process.exit(await snapshotCommand(process.argv.slice(3)));
  }
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
