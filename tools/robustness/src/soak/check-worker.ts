import { parentPort } from "node:worker_threads";
import { assert } from "../assert.js";
import { checkWindow, type WindowCheckInput } from "./window-check.js";

// The soak's checker thread: one window in, its result out. The search is CPU-bound for up to the checker
// timeout; off the main thread it cannot stall the traffic (whose timings the history records).
assert(parentPort !== null, "check-worker runs as a worker thread");
const port = parentPort;
port.on("message", (input: WindowCheckInput) => {
  port.postMessage(checkWindow(input));
});
