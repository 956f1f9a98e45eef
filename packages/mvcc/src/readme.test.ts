import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

// Runs the README's example exactly as written, importing this package's source in place of
// "@etcd-ts/mvcc", so the documentation cannot drift from the code.
it("the README example runs", async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const match = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  expect(match?.[1]).toBeDefined();
  const index = fileURLToPath(new URL("./index.ts", import.meta.url));
  const source = (match?.[1] ?? "").replaceAll('"@etcd-ts/mvcc"', JSON.stringify(index));
  // Inside the package (under node_modules/.cache) so that the example's imports resolve like a user's would.
  const cache = fileURLToPath(new URL("../node_modules/.cache/", import.meta.url));
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, "readme-"));
  try {
    const file = join(dir, "example.ts");
    writeFileSync(file, source);
    await import(/* @vite-ignore */ file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
