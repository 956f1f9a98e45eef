/**
 * The compatibility gate: tools/compat's etcdctl step list, plus the extra steps below for commands that list
 * does not cover, gives the same normalised stdout, stderr and exit code with etcdctl-ts as with Debian's
 * etcdctl 3.4, each against its own real etcd 3.4.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JS module without types
import { steps as compatSteps } from "../../../tools/compat/steps.mjs";
import { runCompat, type Step } from "./compat-harness.js";
import { extraSteps } from "./extra-steps.js";

const only = process.env.COMPAT_ONLY === undefined ? undefined : new RegExp(process.env.COMPAT_ONLY);

describe("etcdctl-ts against Debian etcdctl 3.4 on real etcd 3.4", () => {
  it("prints the same for every step", { timeout: 900_000 }, async () => {
    let steps: Step[] = [...(compatSteps as Step[]), ...extraSteps];
    if (only !== undefined) steps = steps.filter((s) => only.test(JSON.stringify(s)));
    const result = await runCompat(steps, (l) => process.stderr.write(`${l}\n`));
    expect(result.differences.map((d) => `step ${d.index}: ${d.title}`)).toEqual([]);
    if (only === undefined) {
      for (const command of REQUIRED_COMMANDS) expect(result.commands, command).toContain(command);
    }
  });
});

/** REQUIRED_COMMANDS are the commands issue 12 names; each must be run by some step. */
const REQUIRED_COMMANDS = [
  "get",
  "put",
  "del",
  "txn",
  "compaction",
  "watch",
  "lease grant",
  "lease revoke",
  "lease timetolive",
  "lease list",
  "lease keep-alive",
  "member add",
  "member remove",
  "member update",
  "member list",
  "member promote",
  "endpoint health",
  "endpoint status",
  "endpoint hashkv",
  "alarm list",
  "alarm disarm",
  "defrag",
  "snapshot save",
  "move-leader",
  "lock",
  "elect",
  "auth enable",
  "auth disable",
  "user add",
  "user delete",
  "user get",
  "user list",
  "user passwd",
  "user grant-role",
  "user revoke-role",
  "role add",
  "role delete",
  "role get",
  "role list",
  "role grant-permission",
  "role revoke-permission",
  "make-mirror",
  "version",
];
