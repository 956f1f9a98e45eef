import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { checkWindow, type WindowCheckInput, type WindowCheckResult } from "./window-check.js";

/**
 * WindowChecker checks soak windows one at a time, in order, on a worker thread (inline when the worker
 * file is not compiled JavaScript, e.g. under vitest, which runs the TypeScript sources).
 */
export class WindowChecker {
  readonly #worker: Worker | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor() {
    const url = new URL("./check-worker.js", import.meta.url);
    const compiled = fileURLToPath(import.meta.url).endsWith(".js");
    this.#worker = compiled ? new Worker(url) : undefined;
  }

  /** check queues one window; windows are checked in the order they are queued. */
  check(input: WindowCheckInput): Promise<WindowCheckResult> {
    const run = this.#queue.then(() => this.#run(input));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(input: WindowCheckInput): Promise<WindowCheckResult> {
    const worker = this.#worker;
    if (worker === undefined) return checkWindow(input);
    return new Promise<WindowCheckResult>((resolve, reject) => {
      const onError = (err: Error) => {
        worker.off("message", onMessage);
        reject(err);
      };
      const onMessage = (result: WindowCheckResult) => {
        worker.off("error", onError);
        resolve(result);
      };
      worker.once("message", onMessage);
      worker.once("error", onError);
      worker.postMessage(input);
    });
  }

  /** close waits for the queued checks and ends the thread. */
  async close(): Promise<void> {
    await this.#queue;
    await this.#worker?.terminate();
  }
}
