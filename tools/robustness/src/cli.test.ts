import { describe, expect, it } from "vitest";
import { parseDuration, runCli } from "./cli.js";

describe("etcd-ts-robustness command line", () => {
  it("reads soak durations", () => {
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("250")).toBe(250);
    expect(() => parseDuration("soon")).toThrow(/bad duration/);
  });

  it("refuses bad input with exit code 2 before starting anything", async () => {
    const lines: string[] = [];
    const out = (line: string) => lines.push(line);
    expect(await runCli(["--soak", "1m", "--runs", "3"], out)).toBe(2);
    expect(lines.join("\n")).toMatch(/--soak and --runs do not go together/);
    expect(await runCli(["--faults", "meteor-strike"], out)).toBe(2);
    expect(await runCli(["--target", "zookeeper"], out)).toBe(2);
    expect(lines.join("\n")).toMatch(/--target is etcd-ts or etcd/);
  });
});
