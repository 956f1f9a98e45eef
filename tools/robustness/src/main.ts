#!/usr/bin/env node
import { setMaxListeners } from "node:events";
import { runCli } from "./cli.js";

// Eight clients and six watchers share one HTTP/2 session per member; each call adds an abort listener.
setMaxListeners(64);
process.exitCode = await runCli(process.argv.slice(2));
