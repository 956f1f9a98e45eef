import { describe, expect, it } from "vitest";
import { freePort, startMember, tempDir } from "./harness.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

// SIGTERM is a graceful stop: requests in flight are answered or fail cleanly (never hang), the process
// exits 0, and everything acknowledged is there after a restart.
describe("SIGTERM under load", () => {
  it("answers or cleanly fails every request, exits 0, and keeps acknowledged writes", async () => {
    const dataDir = tempDir("sigterm");
    const port = await freePort();
    const member = await startMember({ dataDir, port });
    const acked: string[] = [];
    let failed = 0;
    const puts = Array.from({ length: 64 }, async (_, i) => {
      try {
        const res = await fetch(`http://${member.endpoint}/v3/kv/put`, {
          method: "POST",
          body: JSON.stringify({ key: b64(`t${i}`), value: b64(`v${i}`) }),
          signal: AbortSignal.timeout(15_000),
        });
        if (res.status === 200) acked.push(`t${i}`);
        else failed++;
      } catch (err) {
        if ((err as Error).name === "TimeoutError") throw err; // a hang is a failure of the test
        failed++;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const exited = new Promise<number | null>((resolve) =>
      member.process.once("exit", (code) => resolve(code)),
    );
    await member.stop("SIGTERM");
    await Promise.all(puts);
    expect(await exited).toBe(0);
    expect(acked.length + failed).toBe(64);

    const again = await startMember({ dataDir, port });
    try {
      for (const key of acked) {
        const res = await fetch(`http://${again.endpoint}/v3/kv/range`, {
          method: "POST",
          body: JSON.stringify({ key: b64(key) }),
        });
        const body = (await res.json()) as { kvs?: unknown[] };
        expect(body.kvs, key).toHaveLength(1);
      }
    } finally {
      await again.stop();
    }
  }, 60_000);
});
