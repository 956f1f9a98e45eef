#!/usr/bin/env node
import { setMaxListeners } from "node:events";
import { runCli } from "./cli.js";
import { stopAllClusters } from "./cluster/cluster.js";

// Eight clients and six watchers share one HTTP/2 session per member; each call adds an abort listener.
setMaxListeners(64);
// Interrupted: end the members we started (they are our children, by PID) before exiting.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAllClusters().finally(() => process.exit(130));
  });
}
process.exitCode = await runCli(process.argv.slice(2));
