/** `snapshot save` (and `snapshot status` for files saved by etcd or etcd-ts). */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { Maintenance } from "@etcd-ts/proto/etcdserverpb";
import type { CommandSpec } from "../command.js";
import { badArgs, ExitCode, ExitError } from "../errors.js";
import { formatOf, humanBytes, line, renderTable } from "../output.js";
import { startProgress } from "../progress.js";
import { etcdctlErrorText, toRpcFailure } from "../rpc-error.js";
import type { Session } from "../session.js";
import { readSnapshotStatus } from "../snapshot-status.js";
import { zapLine } from "../zap-log.js";

function info(s: Session, caller: string, msg: string, fields: Array<[string, string]> = []): void {
  s.err(`${zapLine("info", caller, msg, fields)}\n`);
}

function ago(startMs: number): string {
  const seconds = Math.floor((Date.now() - startMs) / 1000);
  if (seconds < 1) return "now";
  return seconds === 1 ? "1 second ago" : `${seconds} seconds ago`;
}

const save: CommandSpec = {
  name: "save",
  use: "save <filename>",
  short: "Stores an etcd node backend snapshot to a given file",
  examples: ["etcdctl-ts snapshot save backup.db"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("snapshot save expects one argument");
    const s = ctx.session;
    const eps = s.globals.endpoints;
    if (eps.length !== 1)
      throw badArgs(`snapshot must be requested to one selected node, not multiple [${eps.join(" ")}]`);
    const ep = eps[0] as string;
    const path = ctx.args[0] as string;
    const partPath = `${path}.part`;
    let fd: number;
    try {
      fd = openSync(partPath, "w", 0o600);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why =
        e.code === "ENOENT"
          ? "no such file or directory"
          : e.code === "EACCES"
            ? "permission denied"
            : e.message;
      throw new ExitError(ExitCode.interrupted, `could not open ${partPath} (open ${partPath}: ${why})`);
    }
    info(s, "snapshot/v3_snapshot.go:119", "created temporary db file", [["path", partPath]]);
    const start = Date.now();
    const abort = new AbortController();
    let size = 0;
    const progress = startProgress(s.io.isTTY, "snapshot", 1, "bytes");
    try {
      const target = await s.streamTarget(abort.signal);
      const stream = target.endpoint.client(Maintenance).snapshot({}, target.options);
      let announced = false;
      for await (const chunk of stream) {
        if (!announced) {
          info(s, "clientv3/maintenance.go:200", "opened snapshot stream; downloading");
          info(s, "snapshot/v3_snapshot.go:127", "fetching snapshot", [["endpoint", ep]]);
          announced = true;
        }
        writeSync(fd, chunk.blob);
        size += chunk.blob.length;
        progress.update(size, size + Number(chunk.remainingBytes));
      }
      info(s, "clientv3/maintenance.go:208", "completed snapshot read; closing");
      fsyncSync(fd);
    } catch (err) {
      progress.stop();
      closeSync(fd);
      throw new ExitError(ExitCode.interrupted, etcdctlErrorText(toRpcFailure(err)));
    } finally {
      abort.abort();
    }
    progress.stop();
    closeSync(fd);
    info(s, "snapshot/v3_snapshot.go:142", "fetched snapshot", [
      ["endpoint", ep],
      ["size", humanBytes(size)],
      ["took", ago(start)],
    ]);
    renameSync(partPath, path);
    info(s, "snapshot/v3_snapshot.go:152", "saved", [["path", path]]);
    line(s, `Snapshot saved at ${path}`);
  },
};

const status: CommandSpec = {
  name: "status",
  use: "status <filename>",
  short: "Gets backend snapshot status of a given file",
  long: `When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.
The items in the lists are hash, revision, total keys, total size.`,
  examples: ["etcdctl-ts snapshot status backup.db -w table"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw badArgs("snapshot status requires exactly one argument");
    const s = ctx.session;
    const format = formatOf(s);
    let st: ReturnType<typeof readSnapshotStatus>;
    try {
      st = readSnapshotStatus(ctx.args[0] as string);
    } catch (err) {
      throw new ExitError(ExitCode.error, (err as Error).message);
    }
    if (format === "json") {
      line(
        s,
        `{"hash":${st.hash},"revision":${st.revision},"totalKey":${st.totalKey},"totalSize":${st.totalSize}}`,
      );
    } else if (format === "table") {
      s.out(
        renderTable(
          ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"],
          [[st.hash.toString(16), String(st.revision), String(st.totalKey), humanBytes(st.totalSize)]],
        ),
      );
    } else if (format === "fields") {
      s.out(
        `"Hash" : ${st.hash}\n"Revision" : ${st.revision}\n"Keys" : ${st.totalKey}\n"Size" : ${st.totalSize}\n`,
      );
    } else {
      line(s, `${st.hash.toString(16)}, ${st.revision}, ${st.totalKey}, ${humanBytes(st.totalSize)}`);
    }
  },
};

/** snapshot is the `snapshot` command group. */
export const snapshot: CommandSpec = {
  name: "snapshot",
  use: "snapshot <subcommand>",
  short: "Manages etcd node snapshots",
  examples: ["etcdctl-ts snapshot save backup.db", "etcdctl-ts snapshot status backup.db -w table"],
  subcommands: [save, status],
};
