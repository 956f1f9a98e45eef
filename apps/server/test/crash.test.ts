import { describe, expect, it } from "vitest";
import { freePort, startMember, tempDir } from "./harness.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

interface Acked {
  key: string;
  value: string;
  revision: number;
}

async function put(endpoint: string, key: string, value: string): Promise<number> {
  const res = await fetch(`http://${endpoint}/v3/kv/put`, {
    method: "POST",
    body: JSON.stringify({ key: b64(key), value: b64(value) }),
  });
  if (res.status !== 200) throw new Error(`put failed: ${res.status}`);
  const body = (await res.json()) as { header: { revision: string } };
  return Number(body.header.revision);
}

async function get(
  endpoint: string,
  key: string,
): Promise<{ value?: string; modRevision?: number; revision: number }> {
  const res = await fetch(`http://${endpoint}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: b64(key) }),
  });
  const body = (await res.json()) as {
    header: { revision: string };
    kvs?: Array<{ value?: string; mod_revision: string }>;
  };
  const kv = body.kvs?.[0];
  return {
    revision: Number(body.header.revision),
    ...(kv === undefined
      ? {}
      : { value: Buffer.from(kv.value ?? "", "base64").toString(), modRevision: Number(kv.mod_revision) }),
  };
}

// Durability under crashes: kill -9 the member at a random moment while 8 clients write, restart it on
// the same data dir, and check that every write it acknowledged is there with the revision it was given.
describe("kill -9 under write load", () => {
  const cycles = Number(process.env.CRASH_CYCLES ?? 20);

  it(`keeps every acknowledged write over ${cycles} crash/restart cycles`, async () => {
    const dataDir = tempDir("crash");
    const port = await freePort();
    const acked: Acked[] = [];
    let lastRevision = 0;
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let cycle = 0; cycle < cycles; cycle++) {
      const member = await startMember({ dataDir, port });
      // The revision never goes back across a crash.
      const now = await get(member.endpoint, "probe");
      expect(now.revision).toBeGreaterThanOrEqual(lastRevision);
      let stop = false;
      const writers = Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const key = `c${cycle}-w${w}-${i % 5}`;
          const value = `v${cycle}-${w}-${i}`;
          try {
            const revision = await put(member.endpoint, key, value);
            acked.push({ key, value, revision });
          } catch {
            return; // the member died under us: this write may or may not have happened
          }
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(random() * 300)));
      await member.stop("SIGKILL");
      stop = true;
      await Promise.all(writers);
      lastRevision = Math.max(lastRevision, ...acked.map((a) => a.revision));
    }
    expect(acked.length).toBeGreaterThan(cycles * 10);

    // Revisions handed out are unique per acknowledged write.
    const revisions = acked.map((a) => a.revision);
    expect(new Set(revisions).size).toBe(revisions.length);

    const member = await startMember({ dataDir, port });
    try {
      const latest = new Map<string, Acked>();
      for (const a of acked) {
        const prev = latest.get(a.key);
        if (prev === undefined || prev.revision < a.revision) latest.set(a.key, a);
      }
      for (const a of latest.values()) {
        const got = await get(member.endpoint, a.key);
        // A later, unacknowledged write to the same key may have landed; never an older value.
        expect(got.modRevision, a.key).toBeGreaterThanOrEqual(a.revision);
        if (got.modRevision === a.revision) expect(got.value).toBe(a.value);
      }
    } finally {
      await member.stop();
    }
  }, 300_000);
});
