import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";
import { removeTempDirs, tempDir } from "../temp-dirs.mjs";

test("temp dirs are fresh, named after their prefix, and all removed together", () => {
  const a = tempDir("unit");
  const b = tempDir("unit");
  assert.notEqual(a, b);
  assert.match(basename(a), /^etcd-ts-unit-/);
  writeFileSync(join(a, "file"), "data");
  removeTempDirs();
  assert.equal(existsSync(a), false);
  assert.equal(existsSync(b), false);
});
