/** Runs the README's example as written, importing this package's source instead of its build. */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it, vi } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const scratch = join(here, "readme-example.generated.ts");
afterAll(() => rmSync(scratch, { force: true }));

it("the README example runs and prints what it says", async () => {
  const readme = readFileSync(join(here, "..", "README.md"), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  expect(match).not.toBeNull();
  const code = (match?.[1] ?? "").replace('from "@etcd-ts/auth"', 'from "./index.js"');
  writeFileSync(scratch, code);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    await import(/* @vite-ignore */ scratch);
    expect(log.mock.calls).toEqual([["etcdserver: permission denied"], [{ enabled: true, authRevision: 8 }]]);
  } finally {
    log.mockRestore();
  }
});
