/**
 * Progress bars on a terminal (etcdctl-ts's addition for `snapshot save` and `check perf`): drawn on stderr
 * with cli-progress only when stderr is a TTY, so piped and scripted runs print exactly what etcdctl prints.
 */
import cliProgress from "cli-progress";

/** Progress is a bar that may be a no-op. */
export interface Progress {
  update(value: number, total?: number): void;
  stop(): void;
}

/** startProgress starts a bar (or returns a no-op when `enabled` is false). */
export function startProgress(enabled: boolean, label: string, total: number, unit: string): Progress {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update(value: number, newTotal?: number) {
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(value);
    },
    stop() {
      bar.stop();
    },
  };
}
