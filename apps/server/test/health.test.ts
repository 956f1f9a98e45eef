import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, type Member, startMember, tempDir } from "./harness.js";

// etcd's HTTP health endpoints on the client port: what load balancers and Kubernetes probes call.
describe("health endpoints", () => {
  let member: Member;
  const get = async (path: string) => {
    const res = await fetch(`http://${member.endpoint}${path}`);
    return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
  };
  const alarm = async (action: "ACTIVATE" | "DEACTIVATE", memberId: string) => {
    const res = await fetch(`http://${member.endpoint}/v3/maintenance/alarm`, {
      method: "POST",
      body: JSON.stringify({ action, memberID: memberId, alarm: "NOSPACE" }),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    member = await startMember({ dataDir: tempDir("health") });
  }, 30_000);

  afterAll(async () => {
    await member?.stop();
  });

  it("answers /health, /livez, /readyz and /version on a healthy member", async () => {
    const health = await get("/health");
    expect(health.status).toBe(200);
    expect(health.type).toBe("application/json");
    expect(JSON.parse(health.body)).toEqual({ health: "true", reason: "" });
    expect(JSON.parse((await get("/health?serializable=true")).body)).toEqual({ health: "true", reason: "" });
    expect(await get("/livez")).toMatchObject({ status: 200, body: "ok\n" });
    expect(await get("/readyz")).toMatchObject({ status: 200, body: "ok\n" });
    const version = JSON.parse((await get("/version")).body);
    expect(version.etcdserver).toMatch(/^3\.\d+\.\d+/);
    expect(version.etcdcluster).toMatch(/^3\.\d+\.0$/);
  });

  it("is unhealthy while an alarm is raised, unless ?exclude names it", async () => {
    const status = JSON.parse((await etcdctl(member.endpoint, ["endpoint", "status", "-w", "json"])).stdout);
    const memberId = String(status[0].Status.header.member_id);
    await alarm("ACTIVATE", memberId);
    try {
      const health = await get("/health");
      expect(health.status).toBe(503);
      expect(JSON.parse(health.body)).toEqual({ health: "false", reason: "ALARM NOSPACE" });
      expect(await get("/readyz")).toMatchObject({ status: 503, body: "ALARM NOSPACE\n" });
      // Liveness does not depend on alarms: the process is up and must not be restarted for it.
      expect((await get("/livez")).status).toBe(200);
      const excluded = await get("/health?exclude=NOSPACE");
      expect(excluded.status).toBe(200);
      expect(JSON.parse(excluded.body)).toEqual({ health: "true", reason: "" });
    } finally {
      await alarm("DEACTIVATE", memberId);
    }
    expect((await get("/health")).status).toBe(200);
  });
});
