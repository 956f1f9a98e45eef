import cliProgress from "cli-progress";

/** Progress counts finished operations and shows a bar on stderr when it is a terminal. */
export interface Progress {
  increment(n?: number): void;
  stop(): void;
}

/** Refresh period of the bar; the hot path only bumps a counter. */
const REDRAW_INTERVAL_MS = 100;

/**
 * createProgress returns a progress bar for `total` operations, drawn on stderr only when stderr is a TTY and
 * `enabled`; otherwise a counter that costs one addition per operation.
 */
export function createProgress(total: number, enabled: boolean): Progress {
  let done = 0;
  if (!enabled || process.stderr.isTTY !== true) {
    return {
      increment(n = 1) {
        done += n;
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: " {value} / {total} [{bar}] {percentage}% {duration}s",
      barCompleteChar: "=",
      barIncompleteChar: " ",
      hideCursor: true,
    },
    cliProgress.Presets.legacy,
  );
  bar.start(total, 0);
  const timer = setInterval(() => bar.update(done), REDRAW_INTERVAL_MS);
  timer.unref();
  return {
    increment(n = 1) {
      done += n;
    },
    stop() {
      clearInterval(timer);
      bar.update(done);
      bar.stop();
    },
  };
}
