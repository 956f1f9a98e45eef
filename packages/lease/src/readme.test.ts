import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

// Runs the README's example exactly as written, importing this package's source in place of
// "@etcd-ts/lease", so the documentation cannot drift from the code.
it("the README example runs", async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const match = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  expect(match).not.toBeNull();
  const index = fileURLToPath(new URL("./index.ts", import.meta.url));
  const source = match![1]!.replaceAll('"@etcd-ts/lease"', JSON.stringify(index));
  const dir = mkdtempSync(join(tmpdir(), "etcd-ts-lease-readme-"));
  try {
    const file = join(dir, "example.ts");
    writeFileSync(file, source);
    await import(/* @vite-ignore */ file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
