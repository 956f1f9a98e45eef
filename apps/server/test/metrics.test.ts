import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, freePort, type Member, startMember, tempDir } from "./harness.js";

/** sample reads one sample's value from a Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels = ""): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    const series = line.slice(0, space);
    if (series === name || (labels !== "" && series.startsWith(`${name}{`) && series.includes(labels))) {
      return Number(line.slice(space + 1));
    }
  }
  return undefined;
}

describe("metrics", () => {
  let member: Member;
  let metricsUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    member = await startMember({
      dataDir: tempDir("metrics"),
      args: ["--listen-metrics-urls", `http://127.0.0.1:${port}`],
    });
  });
  afterAll(async () => {
    await member.stop();
  });

  it("serves etcd's metric names on the client port and on --listen-metrics-urls, and they move", async () => {
    const before = await (await fetch(metricsUrl)).text();
    for (const name of [
      "etcd_server_has_leader",
      "etcd_server_is_leader",
      "etcd_server_leader_changes_seen_total",
      "etcd_server_proposals_committed_total",
      "etcd_server_proposals_applied_total",
      "etcd_server_proposals_pending",
      "etcd_server_proposals_failed_total",
      "etcd_disk_wal_fsync_duration_seconds_count",
      "etcd_disk_backend_commit_duration_seconds_count",
      "etcd_mvcc_db_total_size_in_bytes",
      "etcd_debugging_mvcc_current_revision",
      "process_resident_memory_bytes",
    ]) {
      expect(sample(before, name), name).toBeDefined();
    }
    expect(sample(before, "etcd_server_has_leader")).toBe(1);
    for (let i = 0; i < 5; i++) expect((await etcdctl(member.endpoint, ["put", `k${i}`, "v"])).code).toBe(0);
    const missing = await etcdctl(member.endpoint, ["lease", "revoke", "1234"]);
    expect(missing.code).not.toBe(0);
    const after = await (await fetch(`http://${member.endpoint}/metrics`)).text();
    const applied = (t: string) => sample(t, "etcd_server_proposals_applied_total") ?? 0;
    expect(applied(after)).toBeGreaterThanOrEqual(applied(before) + 5);
    const fsyncs = (t: string) => sample(t, "etcd_disk_wal_fsync_duration_seconds_count") ?? 0;
    expect(fsyncs(after)).toBeGreaterThan(fsyncs(before));
    expect(sample(after, "grpc_server_handled_total", 'grpc_method="Put",grpc_code="OK"')).toBe(5);
    expect(sample(after, "grpc_server_handled_total", 'grpc_method="LeaseRevoke",grpc_code="NotFound"')).toBe(
      1,
    );
    expect(sample(after, "etcd_debugging_mvcc_current_revision")).toBe(6);
  });
});
