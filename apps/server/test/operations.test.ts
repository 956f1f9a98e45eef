import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, type Member, startMember, tempDir } from "./harness.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

async function gateway(member: Member, route: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://${member.endpoint}/v3/${route}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

describe("auto-compaction", () => {
  let member: Member;
  beforeAll(async () => {
    member = await startMember({
      dataDir: tempDir("autocompact"),
      args: ["--auto-compaction-mode", "periodic", "--auto-compaction-retention", "2s"],
    });
  });
  afterAll(async () => {
    await member.stop();
  });

  it("compacts revisions older than the retention on its own (periodic mode)", async () => {
    for (let i = 0; i < 5; i++) expect((await etcdctl(member.endpoint, ["put", "k", `v${i}`])).code).toBe(0);
    let result = await etcdctl(member.endpoint, ["get", "k", "--rev=2"]);
    expect(result.code).toBe(0);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Keep writing, as a live cluster does: each sample of the revision becomes a compaction point.
      await etcdctl(member.endpoint, ["put", "tick", "x"]);
      result = await etcdctl(member.endpoint, ["get", "k", "--rev=2"]);
      if (result.code !== 0) break;
    }
    expect(result.stderr).toContain("etcdserver: mvcc: required revision has been compacted");
  });
});

describe("defragment", () => {
  let member: Member;
  beforeAll(async () => {
    member = await startMember({ dataDir: tempDir("defrag") });
  });
  afterAll(async () => {
    await member.stop();
  });

  it("keeps serving reads while it defragments a large database", async () => {
    // About 25 MB of values, then all deleted and compacted: the defragmentation has real work to do.
    const value = b64("x".repeat(2000));
    for (let t = 0; t < 100; t++) {
      const success = Array.from({ length: 128 }, (_, i) => ({
        request_put: { key: b64(`big/${t}/${i}`), value },
      }));
      await gateway(member, "kv/txn", { success });
    }
    await gateway(member, "kv/put", { key: b64("stays"), value: b64("here") });
    const del = await gateway(member, "kv/deleterange", { key: b64("big/"), range_end: b64("big0") });
    expect(del.deleted).toBe("12800");
    const rev = (await gateway(member, "kv/range", { key: b64("stays") })).header as { revision: string };
    await gateway(member, "kv/compaction", { revision: rev.revision, physical: true });

    let defragDone = false;
    let readsDuringDefrag = 0;
    const defrag = gateway(member, "maintenance/defragment", {}).finally(() => {
      defragDone = true;
    });
    while (!defragDone) {
      const res = await gateway(member, "kv/range", { key: b64("stays") });
      const kvs = res.kvs as Array<{ value: string }>;
      expect(Buffer.from(kvs[0]?.value ?? "", "base64").toString()).toBe("here");
      if (!defragDone) readsDuringDefrag++;
    }
    await defrag;
    expect(readsDuringDefrag).toBeGreaterThan(0);
    const after = await etcdctl(member.endpoint, ["get", "stays", "--print-value-only"]);
    expect(after.stdout).toBe("here\n");
  });
});
