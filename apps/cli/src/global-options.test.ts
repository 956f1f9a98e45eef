/** applyEnv follows etcd 3.4's pkg/flags.SetPflagsFromEnv, as etcdctl calls it. */
import { describe, expect, it } from "vitest";
import { ExitError } from "./errors.js";
import type { FlagValue } from "./flag-set.js";
import { applyEnv, GLOBAL_FLAGS } from "./global-options.js";

function defaults(): Map<string, FlagValue> {
  return new Map(GLOBAL_FLAGS.map((f) => [f.name, f.defaultValue]));
}

describe("applyEnv", () => {
  it("sets flags from ETCDCTL_* and ignores values the flag rejects, as etcdctl does", () => {
    const values = defaults();
    const log: string[] = [];
    applyEnv(
      GLOBAL_FLAGS,
      values,
      new Set(),
      { ETCDCTL_WRITE_OUT: "json", ETCDCTL_COMMAND_TIMEOUT: "bad", ETCDCTL_API: "3" },
      (l) => log.push(l),
    );
    expect(values.get("write-out")).toBe("json");
    expect(values.get("command-timeout")).toBe(5000);
    expect(log).toEqual([]);
  });

  it("is fatal when a flag shadows its variable, even an empty one", () => {
    const log: string[] = [];
    expect(() =>
      applyEnv(GLOBAL_FLAGS, defaults(), new Set(["endpoints"]), { ETCDCTL_ENDPOINTS: "" }, (l) =>
        log.push(l),
      ),
    ).toThrow(ExitError);
    expect(log.join("")).toContain('C | pkg/flags: conflicting environment variable "ETCDCTL_ENDPOINTS"');
  });

  it("warns about unknown variables unless the command declares them", () => {
    const log: string[] = [];
    const env = { ETCDCTL_BOGUS: "1", ETCDCTL_WATCH_KEY: "k" };
    applyEnv(GLOBAL_FLAGS, defaults(), new Set(), env, (l) => log.push(l));
    expect(log.map((l) => l.replace(/^.* W \| /, ""))).toEqual([
      "pkg/flags: unrecognized environment variable ETCDCTL_BOGUS=1\n",
      "pkg/flags: unrecognized environment variable ETCDCTL_WATCH_KEY=k\n",
    ]);
    log.length = 0;
    applyEnv(GLOBAL_FLAGS, defaults(), new Set(), env, (l) => log.push(l), ["ETCDCTL_WATCH_KEY"]);
    expect(log).toHaveLength(1);
  });
});
