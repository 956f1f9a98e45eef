// Process and machine figures from /proc and the OS, for the comparison report.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";

/** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on Linux x86-64). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * processCpuSeconds returns user + system CPU seconds a live process has used, or 0 when it is gone.
 * @param {number | undefined} pid
 */
export function processCpuSeconds(pid) {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) may hold spaces; fields after it are space separated
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * rssBytes returns a live process's resident set size (VmRSS), or 0 when it is gone.
 * @param {number | undefined} pid
 */
export function rssBytes(pid) {
  if (pid === undefined) return 0;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * dirBytes sums the sizes of the files under a directory.
 * @param {string} dir
 */
export function dirBytes(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      try {
        total += fs.statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).size;
      } catch {
        // removed meanwhile
      }
    }
  }
  return total;
}

function run(command, args) {
  try {
    return execFileSync(command, args, { encoding: "utf8" }).trimEnd();
  } catch {
    return "(unavailable)";
  }
}

/**
 * machineInfo describes the machine and versions the comparison ran with.
 * @param {string} etcdBin
 */
export function machineInfo(etcdBin = "etcd") {
  const cpuModel =
    fs
      .readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"))
      ?.split(":")[1]
      ?.trim() ?? "(unknown)";
  return {
    date: new Date().toISOString(),
    nproc: run("nproc", []),
    cpuModel,
    free: run("free", ["-g"]),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    etcd: run(etcdBin, ["--version"])
      .split("\n")
      .filter((l) => !l.startsWith("Git SHA"))
      .join("; "),
  };
}
