import path from "node:path";
import { ClassicLevel } from "classic-level";
import { afterAll, describe, expect, it } from "vitest";
import { put, sleep, status, TestCluster } from "./cluster-harness.js";
import { etcdctl, tempDir } from "./harness.js";

const clusters: TestCluster[] = [];
afterAll(async () => {
  for (const cluster of clusters) await cluster.stop();
});

/**
 * corruptValue rewrites, in a stopped member's backend, every stored value containing `from` so that it
 * contains `to` instead (same length, so the record stays well-formed): silent data corruption that only
 * the hash checks can notice.
 */
async function corruptValue(dataDir: string, from: string, to: string): Promise<number> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(path.join(dataDir, "member", "snap", "db"), {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  await db.open();
  let changed = 0;
  try {
    for await (const [key, value] of db.iterator()) {
      const text = Buffer.from(value).toString("latin1");
      if (text.includes(from)) {
        await db.put(key, Buffer.from(text.replaceAll(from, to), "latin1"));
        changed++;
      }
    }
  } finally {
    await db.close();
  }
  return changed;
}

describe("corruption checks", () => {
  it("a member whose data differs refuses to start; the leader's compaction hash check raises CORRUPT", async () => {
    const cluster = await TestCluster.start({
      baseDir: tempDir("corrupt"),
      size: 3,
      args: ["--compact-hash-check-time", "500ms"],
    });
    clusters.push(cluster);
    const [m1, , m3] = cluster.members as [never, never, (typeof cluster.members)[number]];
    for (let i = 0; i < 10; i++) expect(await put(m1, `k${i}`, "plain")).toBe(true);
    expect(await put(m1, "victim", "corrupt-me-value")).toBe(true);
    await cluster.waitConverged(cluster.members);

    await cluster.kill(m3, "SIGTERM");
    expect(await corruptValue(m3.dataDir, "corrupt-me-value", "corrupt-ME-value")).toBe(1);

    // On start, the member compares its HashKV with its peers' and refuses to serve different data.
    cluster.restart(m3);
    const exited = await new Promise<number | null>((resolve) => m3.process?.once("exit", resolve));
    expect(exited).toBe(1);
    expect(m3.output).toContain("found data inconsistency with peer");
    m3.process = undefined;

    // Started without that check, it serves; the leader's periodic check at the compaction revision finds it.
    cluster.restart(m3, ["--initial-corrupt-check=false"]);
    await cluster.waitForLeader(cluster.running());
    const revision = (await status(m1)).revision;
    const compact = await etcdctl(m1.clientUrl, ["compaction", revision]);
    expect(compact.code, compact.stderr).toBe(0);
    const m3Id = BigInt((await status(m3)).memberId).toString(16);
    let alarms = "";
    for (let i = 0; i < 100 && !alarms.includes("CORRUPT"); i++) {
      await sleep(100);
      alarms = (await etcdctl(m1.clientUrl, ["alarm", "list"])).stdout;
    }
    expect(alarms).toContain(`alarm:CORRUPT`);
    expect(alarms).toContain(BigInt(`0x${m3Id}`).toString());
    // With CORRUPT raised, writes are refused everywhere.
    const write = await etcdctl(m1.clientUrl, ["put", "after", "v"]);
    expect(write.stderr).toContain("etcdserver: corrupt cluster");
  });
});
