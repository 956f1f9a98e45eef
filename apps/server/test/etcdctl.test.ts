import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, type Member, startMember, tempDir } from "./harness.js";

// End to end: the real etcdctl from Debian (etcd-client 3.4) against a real etcd-ts process.
// The same suite runs over both gRPC paths: the fast node:http2 path (the default) and Connect's.
describe.each(["fast", "connect"])("etcdctl against a single etcd-ts member (%s gRPC path)", (grpcPath) => {
  let member: Member;
  const ctl = (args: string[], input?: string) => etcdctl(member.endpoint, args, input);

  beforeAll(async () => {
    member = await startMember({ dataDir: tempDir("ctl"), env: { ETCD_TS_GRPC_PATH: grpcPath } });
  }, 30_000);

  afterAll(async () => {
    await member?.stop();
  });

  it("puts and gets a key", async () => {
    expect(await ctl(["put", "foo", "bar"])).toMatchObject({ code: 0, stdout: "OK\n" });
    expect(await ctl(["get", "foo"])).toMatchObject({ code: 0, stdout: "foo\nbar\n" });
  });

  it("returns the previous value with --prev-kv", async () => {
    await ctl(["put", "pk", "one"]);
    expect((await ctl(["put", "pk", "two", "--prev-kv"])).stdout).toBe("OK\npk\none\n");
  });

  it("gets by prefix, from-key, with limits, sort and keys-only", async () => {
    for (const k of ["p/a", "p/b", "p/c"]) await ctl(["put", k, `v-${k}`]);
    expect((await ctl(["get", "p/", "--prefix"])).stdout).toBe("p/a\nv-p/a\np/b\nv-p/b\np/c\nv-p/c\n");
    expect((await ctl(["get", "p/", "--prefix", "--keys-only"])).stdout).toBe("p/a\n\np/b\n\np/c\n\n");
    expect((await ctl(["get", "p/", "--prefix", "--limit=1", "--order=DESCEND"])).stdout).toBe(
      "p/c\nv-p/c\n",
    );
    expect((await ctl(["get", "p/b", "--from-key", "--keys-only"])).stdout).toContain("p/b\n\np/c\n");
    const limited = JSON.parse((await ctl(["get", "p/", "--prefix", "--limit=1", "-w", "json"])).stdout);
    expect(limited.count).toBe(3);
    expect(limited.more).toBe(true);
    expect(limited.kvs).toHaveLength(1);
  });

  it("prints etcd's JSON with header, kvs and count", async () => {
    await ctl(["put", "jk", "jv"]);
    const out = JSON.parse((await ctl(["get", "jk", "-w", "json"])).stdout);
    expect(out.header.revision).toBeGreaterThan(0);
    expect(out.header.raft_term).toBeGreaterThan(0);
    expect(out.header.member_id).toBeDefined();
    expect(out.kvs[0].key).toBe(Buffer.from("jk").toString("base64"));
    expect(out.kvs[0].value).toBe(Buffer.from("jv").toString("base64"));
    expect(out.kvs[0].version).toBe(1);
    expect(out.count).toBe(1);
  });

  it("deletes keys and reports the count", async () => {
    await ctl(["put", "d/1", "x"]);
    await ctl(["put", "d/2", "x"]);
    expect((await ctl(["del", "d/", "--prefix"])).stdout).toBe("2\n");
    expect((await ctl(["get", "d/", "--prefix"])).stdout).toBe("");
    expect((await ctl(["del", "nothing-here"])).stdout).toBe("0\n");
  });

  it("runs a transaction from stdin", async () => {
    await ctl(["put", "tk", "1"]);
    const script = 'value("tk") = "1"\n\nput tk 2\n\nput tk 3\n\n';
    const res = await ctl(["txn"], script);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("SUCCESS\n\nOK\n"); // what etcd 3.4's etcdctl prints against real etcd
    expect((await ctl(["get", "tk", "--print-value-only"])).stdout).toBe("2\n");
  });

  it("grants, lists, inspects and revokes a lease, deleting its keys", async () => {
    const grant = await ctl(["lease", "grant", "100"]);
    const id = /lease ([0-9a-f]+) granted with TTL\(100s\)/.exec(grant.stdout)?.[1];
    expect(id).toBeDefined();
    await ctl(["put", "lk", "lv", `--lease=${id}`]);
    expect((await ctl(["lease", "list"])).stdout).toContain(id as string);
    const ttl = await ctl(["lease", "timetolive", id as string, "--keys"]);
    expect(ttl.stdout).toMatch(
      new RegExp(`lease ${id} granted with TTL\\(100s\\), remaining\\(\\d+s\\), attached keys\\(\\[lk\\]\\)`),
    );
    expect((await ctl(["lease", "keep-alive", "--once", id as string])).stdout).toContain(
      `lease ${id} keepalived with TTL(100)`,
    );
    expect((await ctl(["lease", "revoke", id as string])).stdout).toContain(`lease ${id} revoked`);
    expect((await ctl(["get", "lk"])).stdout).toBe("");
  });

  it("expires a lease on its own and deletes its keys", async () => {
    const grant = await ctl(["lease", "grant", "2"]);
    const id = /lease ([0-9a-f]+) granted/.exec(grant.stdout)?.[1] as string;
    await ctl(["put", "ek", "ev", `--lease=${id}`]);
    expect((await ctl(["get", "ek", "--print-value-only"])).stdout).toBe("ev\n");
    let gone = false;
    for (let i = 0; i < 80 && !gone; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      gone = (await ctl(["get", "ek"])).stdout === "";
    }
    expect(gone).toBe(true);
    expect((await ctl(["lease", "timetolive", id])).stdout).toBe(`lease ${id} already expired\n`);
  }, 20_000);

  it("rejects a put with an unknown lease with etcd's error", async () => {
    const res = await ctl(["put", "x", "y", "--lease=1234abcd"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("etcdserver: requested lease not found");
  });

  it("compacts and refuses reads of compacted revisions", async () => {
    await ctl(["put", "ck", "1"]);
    await ctl(["put", "ck", "2"]);
    const rev = JSON.parse((await ctl(["get", "ck", "-w", "json"])).stdout).header.revision as number;
    expect((await ctl(["compaction", String(rev - 1)])).stdout).toBe(`compacted revision ${rev - 1}\n`);
    const old = await ctl(["get", "ck", `--rev=${rev - 2}`]);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toContain("etcdserver: mvcc: required revision has been compacted");
    expect((await ctl(["get", "ck", `--rev=${rev}`, "--print-value-only"])).stdout).toBe("2\n");
  });

  it("reports a future revision as an error", async () => {
    const res = await ctl(["get", "foo", "--rev=100000000"]);
    expect(res.stderr).toContain("etcdserver: mvcc: required revision is a future revision");
  });

  it("lists members and answers endpoint status and health", async () => {
    const members = await ctl(["member", "list"]);
    expect(members.code).toBe(0);
    expect(members.stdout).toMatch(
      /^[0-9a-f]+, started, test, http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+, false\n$/,
    );
    const status = await ctl(["endpoint", "status", "-w", "json"]);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout)[0].Status;
    expect(parsed.leader).toBe(parsed.header.member_id);
    expect(parsed.raftIndex).toBeGreaterThan(0);
    const health = await ctl(["endpoint", "health"]);
    expect(health.code).toBe(0);
    // etcdctl 3.4 prints the health line on stderr.
    expect(health.stderr).toMatch(/127\.0\.0\.1:\d+ is healthy: successfully committed proposal/);
  });

  it("watches a key and sees the next put", async () => {
    const { spawn } = await import("node:child_process");
    const watcher = spawn("etcdctl", [`--endpoints=${member.endpoint}`, "watch", "wk"], {
      env: { ...process.env, ETCDCTL_API: "3" },
    });
    let out = "";
    watcher.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    try {
      // Give the watch time to be created, then write until the event shows up.
      for (let i = 0; i < 50 && !out.includes("PUT\nwk\nwv\n"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (i % 10 === 5) await ctl(["put", "wk", "wv"]);
      }
      expect(out).toContain("PUT\nwk\nwv\n");
    } finally {
      if (watcher.pid !== undefined) process.kill(watcher.pid);
    }
  });

  it("saves a snapshot whose last 32 bytes are the SHA-256 of the rest", async () => {
    const { createHash } = await import("node:crypto");
    const fs = await import("node:fs");
    const path = await import("node:path");
    await ctl(["put", "snap-key", "snap-value"]);
    const file = path.join(tempDir("snap"), "snap.db");
    const res = await ctl(["snapshot", "save", file]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Snapshot saved at ${file}`);
    const bytes = fs.readFileSync(file);
    const body = bytes.subarray(0, bytes.length - 32);
    expect(
      createHash("sha256")
        .update(body)
        .digest()
        .equals(bytes.subarray(bytes.length - 32)),
    ).toBe(true);
    expect(body.includes(Buffer.from("snap-value"))).toBe(true);
  });

  it("speaks the JSON gateway", async () => {
    const put = await fetch(`http://${member.endpoint}/v3/kv/put`, {
      method: "POST",
      body: JSON.stringify({
        key: Buffer.from("gw").toString("base64"),
        value: Buffer.from("gv").toString("base64"),
      }),
    });
    expect(put.status).toBe(200);
    const range = await fetch(`http://${member.endpoint}/v3/kv/range`, {
      method: "POST",
      body: JSON.stringify({ key: Buffer.from("gw").toString("base64") }),
    });
    const body = (await range.json()) as { kvs: Array<{ value: string; version: string }>; count: string };
    expect(body.kvs[0]?.value).toBe(Buffer.from("gv").toString("base64"));
    expect(body.kvs[0]?.version).toBe("1");
    expect(body.count).toBe("1");
  });
});
