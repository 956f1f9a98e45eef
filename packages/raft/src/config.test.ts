import { describe, expect, it } from "vitest";
import { validateConfig } from "./config.js";
import { ConfigError } from "./errors.js";
import { MemoryStorage } from "./storage.js";
import { ReadOnlyOption } from "./types.js";

const base = { id: 1n, electionTick: 10, heartbeatTick: 1, storage: new MemoryStorage(), random: () => 0 };

describe("validateConfig", () => {
  it("rejects invalid configs with etcd's messages", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ id: 0n }, "cannot use none as id"],
      [{ heartbeatTick: 0 }, "heartbeat tick must be greater than 0"],
      [{ electionTick: 1 }, "election tick must be greater than heartbeat tick"],
      [{ maxInflightMsgs: 0 }, "max inflight messages must be greater than 0"],
      [{ maxSizePerMsg: 100, maxInflightBytes: 10 }, "max inflight bytes must be >= max message size"],
      [
        { readOnlyOption: ReadOnlyOption.LeaseBased },
        "CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased",
      ],
    ];
    for (const [override, msg] of cases) {
      expect(() => validateConfig({ ...base, ...override })).toThrow(ConfigError);
      expect(() => validateConfig({ ...base, ...override })).toThrow(msg);
    }
  });

  it("fills in defaults", () => {
    const c = validateConfig(base);
    expect(c.maxInflightMsgs).toBe(256);
    expect(c.maxCommittedSizePerReady).toBe(c.maxSizePerMsg);
    expect(c.readOnlyOption).toBe(ReadOnlyOption.Safe);
    expect(c.checkQuorum).toBe(false);
  });
});
