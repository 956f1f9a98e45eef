import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InteractionEnv, parseCommand } from "./env.js";

/**
 * Data-driven scenario tests. Each file in testdata/ is a sequence of blocks:
 *
 *     command args key=value
 *     ----
 *     expected output
 *     <blank line>
 *
 * Run with REWRITE=1 to regenerate the expected output from the actual one.
 */
const dir = join(import.meta.dirname, "../../testdata");
const rewrite = process.env.REWRITE === "1";

interface Block {
  input: string;
  expected: string;
}

function parse(text: string): { blocks: Block[]; header: string[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) {
      i++;
      continue;
    }
    const input = line;
    i++;
    if (lines[i] !== "----") throw new Error(`expected ---- after "${input}" (line ${i + 1})`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== "") out.push(lines[i++]!);
    blocks.push({ input, expected: out.join("\n") });
  }
  return { blocks, header: [] };
}

function render(text: string, actual: Map<number, string>): string {
  // Re-emit comments and commands, replacing each expected output with the actual one.
  const lines = text.split("\n");
  const result: string[] = [];
  let i = 0;
  let b = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) {
      result.push(line);
      i++;
      continue;
    }
    result.push(line, "----");
    i += 2;
    while (i < lines.length && lines[i] !== "") i++;
    const out = actual.get(b++) ?? "";
    result.push(out === "" ? "ok" : out);
  }
  return result.join("\n");
}

describe("interaction scenarios (testdata/*.txt)", () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()) {
    it(file, () => {
      const path = join(dir, file);
      const text = readFileSync(path, "utf8");
      const { blocks } = parse(text);
      const env = new InteractionEnv();
      const actual = new Map<number, string>();
      blocks.forEach((blk, idx) => {
        const out = env.handle(parseCommand(blk.input)) || "ok";
        actual.set(idx, out);
        if (!rewrite) expect(out, `${file}: ${blk.input}`).toBe(blk.expected);
      });
      if (rewrite) writeFileSync(path, render(text, actual));
    });
  }
});
