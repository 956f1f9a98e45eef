/**
 * signalReady tells a test harness that a long-running command (watch, lock, elect, lease keep-alive) is in
 * place: when ETCD_TS_CLI_READY_DIR is set, an empty file named after our PID is created in it. Tests wait
 * for it instead of sleeping for a guessed time. Without the variable it does nothing.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

let signalled = false;

/** signalReady marks this process ready (once). */
export function signalReady(env: NodeJS.ProcessEnv): void {
  const dir = env.ETCD_TS_CLI_READY_DIR;
  if (signalled || dir === undefined || dir === "") return;
  signalled = true;
  try {
    writeFileSync(join(dir, String(process.pid)), "");
  } catch {
    // the harness went away; nothing to tell
  }
}
