// The module example of README.md runs as written (against real etcd) and prints what it says.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

it("README's module example runs", async () => {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const example = /## As a module\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example !== undefined, "README has a js block under 'As a module'");
  // Inside the package, so that the self-reference "@etcd-ts/cluster" resolves.
  const file = join(packageDir, `.readme-example-${process.pid}.mjs`);
  writeFileSync(file, example);
  try {
    const out = await new Promise((resolve, reject) => {
      execFile(process.execPath, [file], { timeout: 60_000 }, (err, stdout, stderr) =>
        err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stdout}${stderr}`)),
      );
    });
    assert.match(String(out), /^OK\ninfra4 joined as learner [0-9a-f]+ on http:\/\/127\.0\.0\.1:\d+\nOK\n$/);
  } finally {
    rmSync(file, { force: true });
  }
});
