// Running Debian's etcdctl (API v3) against one server: foreground commands with a deadline, and background
// commands (watch, lock, elect) that are ended by their PID when a step says so.

import { spawn } from "node:child_process";

/** A foreground etcdctl that has not finished by then is killed; etcdctl's own command timeout is 5 s. */
const FOREGROUND_TIMEOUT_MS = 20_000;
/** How long a background command may take to exit after its signal before it gets SIGKILL. */
const BACKGROUND_EXIT_TIMEOUT_MS = 5_000;

/**
 * @typedef {object} Outcome
 * @property {string} stdout
 * @property {string} stderr
 * @property {string} exit  "0", "1", ... or "signal SIGTERM"
 */

/**
 * tokenize splits a step's argument string like a shell would for simple cases: whitespace separates words,
 * '...' quotes literally, "..." quotes with backslash escapes.
 * @param {string} line
 * @returns {string[]}
 */
export function tokenize(line) {
  /** @type {string[]} */
  const words = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? "";
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\" && i + 1 < line.length) i++;
        word += line[i];
        i++;
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * etcdctlEnv is the environment for etcdctl: ours, minus any ETCDCTL_* of the caller, plus API v3 and the
 * server's endpoint, unless the command names its endpoints itself (etcdctl refuses both at once).
 * @param {string} endpoint
 * @param {string[]} args
 */
function etcdctlEnv(endpoint, args) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("ETCDCTL_") && v !== undefined) env[k] = v;
  }
  env.ETCDCTL_API = "3";
  if (!args.some((a) => a.startsWith("--endpoints"))) env.ETCDCTL_ENDPOINTS = endpoint;
  return env;
}

/**
 * runEtcdctl runs one command to completion.
 * @param {string} etcdctl path of the binary
 * @param {string} endpoint
 * @param {string[]} args
 * @param {Buffer | undefined} stdin
 * @returns {Promise<Outcome>}
 */
export function runEtcdctl(etcdctl, endpoint, args, stdin) {
  const bg = startEtcdctl(etcdctl, endpoint, args, stdin, true);
  const timer = setTimeout(() => bg.kill("SIGKILL"), FOREGROUND_TIMEOUT_MS);
  return bg.done.then((outcome) => {
    clearTimeout(timer);
    return outcome;
  });
}

/**
 * @typedef {object} Background
 * @property {number} pid
 * @property {() => string} stdout  what it printed so far
 * @property {(signal: NodeJS.Signals) => void} kill
 * @property {Promise<Outcome>} done
 * @property {() => boolean} running
 */

/**
 * startEtcdctl starts a command and returns at once. Its stdin is written and, unless closeStdin, left
 * open: interactive watch exits when its stdin ends.
 * @param {string} etcdctl
 * @param {string} endpoint
 * @param {string[]} args
 * @param {Buffer | undefined} stdin
 * @param {boolean} [closeStdin]
 * @returns {Background}
 */
export function startEtcdctl(etcdctl, endpoint, args, stdin, closeStdin = false) {
  const child = spawn(etcdctl, args, { env: etcdctlEnv(endpoint, args), stdio: ["pipe", "pipe", "pipe"] });
  /** @type {Buffer[]} */
  const out = [];
  /** @type {Buffer[]} */
  const err = [];
  child.stdout.on("data", (b) => out.push(b));
  child.stderr.on("data", (b) => err.push(b));
  child.stdin.on("error", () => {
    // etcdctl may exit before it reads its stdin
  });
  if (stdin !== undefined) child.stdin.write(stdin);
  if (closeStdin) child.stdin.end();
  let exited = false;
  /** @type {Promise<Outcome>} */
  const done = new Promise((resolve) => {
    child.on("error", (e) => {
      exited = true;
      resolve({ stdout: "", stderr: `could not run ${etcdctl}: ${e.message}`, exit: "spawn error" });
    });
    child.on("close", (code, signal) => {
      exited = true;
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        exit: signal !== null ? `signal ${signal}` : String(code),
      });
    });
  });
  const pid = child.pid ?? -1;
  return {
    pid,
    stdout: () => Buffer.concat(out).toString("utf8"),
    running: () => !exited,
    kill: (signal) => {
      if (exited || pid < 0) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
    done,
  };
}

/**
 * stopBackground signals a background command by its PID and waits for it, escalating to SIGKILL.
 * @param {Background} bg
 * @param {NodeJS.Signals} signal
 */
export async function stopBackground(bg, signal) {
  bg.kill(signal);
  const timer = setTimeout(() => bg.kill("SIGKILL"), BACKGROUND_EXIT_TIMEOUT_MS);
  const outcome = await bg.done;
  clearTimeout(timer);
  return outcome;
}
