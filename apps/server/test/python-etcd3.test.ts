import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Member, startMember, tempDir } from "./harness.js";

// Debian's python3-etcd3 (grpcio) against etcd-ts, under the system python that sees Debian's packages.
const script = `
import sys, threading, etcd3
host, port = sys.argv[1].split(":")
c = etcd3.client(host=host, port=int(port))
c.put("/py/a", "1")
c.put("/py/b", "2")
value, meta = c.get("/py/a")
print("get", value.decode(), meta.version)
print("prefix", sorted(v.decode() for v, m in c.get_prefix("/py/")))
st = c.status()
print("status", st.version, st.leader is not None, st.raft_term > 0)
got = threading.Event()
events = []
def cb(resp):
    for e in resp.events:
        events.append(e.key.decode())
    got.set()
wid = c.add_watch_callback("/py/w", cb)
c.put("/py/w", "x")
got.wait(5)
c.cancel_watch(wid)
print("watch", events)
lease = c.lease(60)
c.put("/py/l", "v", lease=lease)
print("lease", lease.remaining_ttl > 0, [k.decode() for k in lease.keys])
print("members", len(list(c.members)))
`;

describe("python3-etcd3", () => {
  let member: Member;
  beforeAll(async () => {
    member = await startMember({ dataDir: tempDir("py") });
  }, 30_000);
  afterAll(async () => {
    await member?.stop();
  });

  it("puts, gets, lists by prefix, reads status and members, watches and uses leases", async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        "/usr/bin/python3",
        ["-c", script, member.endpoint],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(stdout);
        },
      );
    });
    expect(out).toContain("get 1 1\n");
    expect(out).toContain("prefix ['1', '2']\n");
    expect(out).toContain("status 3.6.0 True True\n");
    expect(out).toContain("watch ['/py/w']\n");
    expect(out).toContain("lease True ['/py/l']\n");
    expect(out).toContain("members 1\n");
  }, 60_000);
});
