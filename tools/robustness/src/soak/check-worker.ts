import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parentPort } from "node:worker_threads";
import { assert } from "../assert.js";
import { checkWindow, type WindowCheckInput } from "./window-check.js";

// The soak's checker thread: one window in, its result out. The search is CPU-bound for up to the checker
// timeout; off the main thread it cannot stall the traffic (whose timings the history records).
assert(parentPort !== null, "check-worker runs as a worker thread");
const port = parentPort;

/**
 * The checker runs below the cluster under test: on Linux a thread's nice value is its own, so this
 * thread lowers its own (`/proc/thread-self` names its thread id). The soak measures the members'
 * throughput on a machine they share with the harness; the search only needs to keep up on average (the
 * windows queue), not to take CPU from the members while they serve. Elsewhere it stays as it is.
 */
const checkerNice = 10;
try {
  const tid = Number(path.basename(fs.readlinkSync("/proc/thread-self")));
  if (Number.isSafeInteger(tid) && tid > 0) os.setPriority(tid, checkerNice);
} catch {
  // Not Linux (no /proc/thread-self), or not permitted: the checker keeps the process's priority.
}
port.on("message", (input: WindowCheckInput) => {
  port.postMessage(checkWindow(input));
});
