import { describe, expect, it } from "vitest";
import { UsageError } from "./errors.js";
import { type FlagSpec, flagDefaultText, parseFlags } from "./flag-set.js";

const specs: FlagSpec[] = [
  { name: "prefix", kind: "bool", defaultValue: false, usage: "" },
  { name: "rev", kind: "int", defaultValue: 0n, usage: "" },
  { name: "write-out", short: "w", kind: "string", defaultValue: "simple", usage: "" },
  { name: "interactive", short: "i", kind: "bool", defaultValue: true, usage: "" },
  { name: "endpoints", kind: "stringSlice", defaultValue: ["127.0.0.1:2379"], usage: "" },
  { name: "command-timeout", kind: "duration", defaultValue: 5000, usage: "" },
];

describe("parseFlags (pflag semantics)", () => {
  it("takes flags anywhere among the arguments", () => {
    const p = parseFlags(specs, ["a", "--prefix", "b", "-w", "json", "--rev=-1"]);
    expect(p.args).toEqual(["a", "b"]);
    expect(p.values.get("prefix")).toBe(true);
    expect(p.values.get("write-out")).toBe("json");
    expect(p.values.get("rev")).toBe(-1n);
    expect([...p.changed].sort()).toEqual(["prefix", "rev", "write-out"]);
  });

  it("accepts --bool=false, -wjson and durations", () => {
    const p = parseFlags(specs, ["--interactive=false", "-wjson", "--command-timeout", "1m30s"]);
    expect(p.values.get("interactive")).toBe(false);
    expect(p.values.get("write-out")).toBe("json");
    expect(p.values.get("command-timeout")).toBe(90_000);
  });

  it("stops at -- and remembers where", () => {
    const p = parseFlags(specs, ["k", "--", "sh", "-c", "echo --prefix"]);
    expect(p.args).toEqual(["k", "sh", "-c", "echo --prefix"]);
    expect(p.argsLenAtDash).toBe(1);
    expect(p.values.get("prefix")).toBe(false);
  });

  it("splits string slices on commas", () => {
    expect(parseFlags(specs, ["--endpoints=a:1,b:2"]).values.get("endpoints")).toEqual(["a:1", "b:2"]);
  });

  it("reports errors with pflag's texts", () => {
    expect(() => parseFlags(specs, ["--count-only"])).toThrow(new UsageError("unknown flag: --count-only"));
    expect(() => parseFlags(specs, ["-5"])).toThrow(new UsageError("unknown shorthand flag: '5' in -5"));
    expect(() => parseFlags(specs, ["--rev"])).toThrow(new UsageError("flag needs an argument: --rev"));
    expect(() => parseFlags(specs, ["--rev", "x"])).toThrow(
      new UsageError('invalid argument "x" for "--rev" flag: strconv.ParseInt: parsing "x": invalid syntax'),
    );
  });

  it("renders defaults as etcdctl's help does", () => {
    expect(specs.map(flagDefaultText)).toEqual([
      "      --prefix[=false]",
      "      --rev=0",
      '  -w, --write-out="simple"',
      "  -i, --interactive[=true]",
      "      --endpoints=[127.0.0.1:2379]",
      "      --command-timeout=5s",
    ]);
  });
});
