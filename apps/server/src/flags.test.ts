import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@etcd-ts/test-support";
import { describe, expect, it } from "vitest";
import { parseFlags } from "./flags.js";

const mainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist/main.js");

describe("parseFlags", () => {
  it("uses etcd's defaults", () => {
    const config = parseFlags([], {});
    expect(config.name).toBe("default");
    expect(config.dataDir).toBe("default.etcd");
    expect(config.listenClientUrls).toEqual(["http://localhost:2379"]);
    expect(config.heartbeatIntervalMs).toBe(100);
    expect(config.electionTimeoutMs).toBe(1000);
    expect(config.maxRequestBytes).toBe(1_572_864);
    expect(config.maxTxnOps).toBe(128);
    expect(config.corsOrigins).toEqual(["*"]);
  });

  it("reads --cors as a list, from the flag, ETCD_CORS or the config file", () => {
    expect(parseFlags(["--cors", "http://a.example, http://b.example"], {}).corsOrigins).toEqual([
      "http://a.example",
      "http://b.example",
    ]);
    expect(parseFlags([], { ETCD_CORS: "http://c.example" }).corsOrigins).toEqual(["http://c.example"]);
  });

  it("takes flags over ETCD_* variables over the config file", () => {
    const dir = tempDir("flags");
    const file = path.join(dir, "etcd.conf.yml");
    fs.writeFileSync(
      file,
      "name: from-file\nsnapshot-count: 42\nmax-txn-ops: 7\nlisten-client-urls: http://127.0.0.1:1\n",
    );
    const config = parseFlags(["--config-file", file, "--max-txn-ops", "9"], { ETCD_SNAPSHOT_COUNT: "43" });
    expect(config.name).toBe("from-file");
    expect(config.dataDir).toBe("from-file.etcd");
    expect(config.maxTxnOps).toBe(9);
    expect(config.listenClientUrls).toEqual(["http://127.0.0.1:1"]);
    // The file is read as if its keys were flags, so it wins over the environment.
    expect(config.snapshotCount).toBe(42);
    expect(parseFlags([], { ETCD_SNAPSHOT_COUNT: "43", ETCD_NAME: "envname" })).toMatchObject({
      snapshotCount: 43,
      name: "envname",
    });
  });

  it("reads Go-style durations", () => {
    expect(parseFlags([], {}).watchProgressNotifyIntervalMs).toBe(600_000);
    expect(parseFlags(["--watch-progress-notify-interval", "1m30s"], {}).watchProgressNotifyIntervalMs).toBe(
      90_000,
    );
    expect(parseFlags(["--watch-progress-notify-interval", "250ms"], {}).watchProgressNotifyIntervalMs).toBe(
      250,
    );
    expect(() => parseFlags(["--watch-progress-notify-interval", "soon"], {})).toThrow(/not a duration/);
  });

  it("rejects unknown keys in the config file", () => {
    const dir = tempDir("flags");
    const file = path.join(dir, "bad.yml");
    fs.writeFileSync(file, "nmae: typo\n");
    expect(() => parseFlags(["--config-file", file], {})).toThrow(/unknown configuration key "nmae"/);
  });
});

describe("the etcd-ts binary", () => {
  it("exits 1 with a message on a bad flag, before writing anything", () => {
    const dir = path.join(tempDir("flags"), "data");
    const unknown = spawnSync(process.execPath, [mainJs, "--no-such-flag", "--data-dir", dir], {
      encoding: "utf8",
    });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("unknown option '--no-such-flag'");
    const invalid = spawnSync(process.execPath, [mainJs, "--election-timeout", "100", "--data-dir", dir], {
      encoding: "utf8",
    });
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain("--election-timeout should be at least 5 times --heartbeat-interval");
    expect(fs.existsSync(dir)).toBe(false);
  });
});
