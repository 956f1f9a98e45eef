import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, type Member, startMember, tempDir } from "./harness.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

// The backend quota: past it, puts fail with NOSPACE and the alarm is raised; reads and deletes go on;
// compaction + defrag + disarm recover.
describe("backend quota", () => {
  let member: Member;
  const ctl = (args: string[], input?: string) => etcdctl(member.endpoint, args, input);
  const put = async (key: string, value: string) => {
    const res = await fetch(`http://${member.endpoint}/v3/kv/put`, {
      method: "POST",
      body: JSON.stringify({ key: b64(key), value: b64(value) }),
    });
    return { status: res.status, body: (await res.json()) as { message?: string } };
  };

  beforeAll(async () => {
    member = await startMember({ dataDir: tempDir("quota"), args: ["--quota-backend-bytes", "400000"] });
  }, 30_000);

  afterAll(async () => {
    await member?.stop();
  });

  it("raises NOSPACE past the quota and recovers after compact, defrag and disarm", async () => {
    const big = "x".repeat(100_000);
    let refused: { status: number; body: { message?: string } } | undefined;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      const res = await put(`big${i}`, big);
      if (res.status !== 200) refused = res;
      else await new Promise((resolve) => setTimeout(resolve, 1100)); // the size is sampled every second
    }
    expect(refused?.body.message).toBe("etcdserver: mvcc: database space exceeded");
    // The alarm goes up through raft.
    let alarms = "";
    for (let i = 0; i < 50 && !alarms.includes("NOSPACE"); i++) {
      alarms = (await ctl(["alarm", "list"])).stdout;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(alarms).toMatch(/^memberID:\d+ alarm:NOSPACE \n$/);
    // Reads and deletes still work.
    expect((await ctl(["get", "big0", "--keys-only"])).stdout).toBe("big0\n\n");
    expect((await ctl(["del", "big", "--prefix"])).code).toBe(0);
    const small = await put("small", "1");
    expect(small.body.message).toBe("etcdserver: mvcc: database space exceeded");

    const rev = JSON.parse((await ctl(["get", "small", "-w", "json"])).stdout).header.revision as number;
    expect((await ctl(["compaction", String(rev), "--physical"])).code).toBe(0);
    expect((await ctl(["defrag"])).stdout).toContain("Finished defragmenting etcd member");
    expect((await ctl(["alarm", "disarm"])).code).toBe(0);
    expect((await ctl(["alarm", "list"])).stdout).toBe("");
    expect((await put("small", "2")).status).toBe(200);
  }, 120_000);
});
