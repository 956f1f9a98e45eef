import type { EtcdApi } from "../api/etcd-api.js";
import { h, replaceChildren } from "../shell/element.js";
import { formatBytes, formatClock, formatId } from "../shell/format.js";
import type { View } from "../shell/view.js";
import { type ClusterSnapshot, fetchClusterSnapshot, type MemberRow } from "./cluster-snapshot.js";

/** CLUSTER_REFRESH_MS is how often the cluster view refreshes while it is shown. */
export const CLUSTER_REFRESH_MS = 2_000;
/** DIRECT_RETRY_MS is how long a member that could not be asked directly is left alone before a retry. */
export const DIRECT_RETRY_MS = 30_000;

/**
 * ClusterView shows the members with their role, term, raft and applied index, database size and alarms,
 * the leader highlighted, refreshed every {@link CLUSTER_REFRESH_MS}.
 */
export class ClusterView implements View {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #body: HTMLElement | undefined;
  #stopped = true;
  readonly #apis = new Map<string, EtcdApi>();
  /** Members whose client URL failed recently: the time to retry, and why it failed. */
  readonly #failed = new Map<string, { retryAt: number; error: string }>();

  constructor(
    private readonly api: EtcdApi,
    private readonly connect: (clientUrl: string) => EtcdApi,
  ) {}

  mount(container: HTMLElement): void {
    this.#body = h("div", { class: "cluster" }, h("p", { class: "muted" }, "Loading cluster status…"));
    replaceChildren(container, this.#body);
    this.#stopped = false;
    void this.#refresh();
  }

  unmount(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #refresh(): Promise<void> {
    let content: HTMLElement;
    try {
      const snapshot = await fetchClusterSnapshot(this.api, (url) => this.#direct(url));
      for (const row of snapshot.members) {
        const url = row.member.clientURLs[0];
        if (url === undefined) continue;
        if (row.source === "direct") this.#failed.delete(url);
        if (row.source === "unreachable" && !this.#failed.has(url)) {
          this.#failed.set(url, { retryAt: Date.now() + DIRECT_RETRY_MS, error: row.error });
        }
      }
      content = this.#render(snapshot);
    } catch (err) {
      content = h(
        "div",
        { class: "error", role: "alert" },
        `Cannot reach the member serving this page: ${(err as Error).message}`,
      );
    }
    if (this.#stopped || this.#body === undefined) return;
    replaceChildren(this.#body, content);
    this.#timer = setTimeout(() => void this.#refresh(), CLUSTER_REFRESH_MS);
  }

  #direct(url: string): EtcdApi | string {
    const failed = this.#failed.get(url);
    if (failed !== undefined) {
      if (Date.now() < failed.retryAt) return failed.error;
      this.#failed.delete(url);
    }
    let api = this.#apis.get(url);
    if (api === undefined) {
      api = this.connect(url);
      this.#apis.set(url, api);
    }
    return api;
  }

  #render(s: ClusterSnapshot): HTMLElement {
    const serving = s.members.find((m) => m.member.ID === s.servingMemberId);
    const unreachable = s.members.filter((m) => m.source === "unreachable");
    const leader = s.members.find((m) => m.member.ID === s.leaderId);
    return h(
      "div",
      {},
      h(
        "div",
        { class: "summary" },
        summaryItem("Cluster", formatId(s.clusterId)),
        summaryItem("Served by", serving?.member.name || formatId(s.servingMemberId)),
        summaryItem("Leader", leader === undefined ? "none" : leader.member.name || formatId(s.leaderId)),
        summaryItem("Revision", String(s.revision)),
        summaryItem("Members", String(s.members.length)),
        summaryItem("Refreshed", formatClock(s.fetchedAt)),
      ),
      h(
        "table",
        { class: "members" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [
              "Name",
              "ID",
              "Role",
              "Term",
              "Raft index",
              "Applied",
              "DB size (in use)",
              "Version",
              "Alarms",
              "Client URLs",
            ].map((c) => h("th", {}, c)),
          ),
        ),
        h(
          "tbody",
          {},
          s.members.map((m) => memberRow(m)),
        ),
      ),
      unreachable.length === 0
        ? null
        : h(
            "p",
            { class: "note" },
            `${unreachable.length} member(s) could not be asked directly from the browser ` +
              `(${unreachable[0]?.error ?? ""}). The member may be down, or its client port may not allow ` +
              "this page's origin (etcd-ts allows every origin unless --cors narrows it; etcd 3.4 sends no " +
              "CORS headers on gRPC-Web). For those members the table shows what " +
              `${serving?.member.name || "the serving member"} knows (membership and who leads). ` +
              "Open the dashboard on each member's own client URL to see its status.",
          ),
    );
  }
}

function summaryItem(label: string, value: string): HTMLElement {
  return h(
    "div",
    { class: "summary-item" },
    h("span", { class: "label" }, label),
    h("span", { class: "value" }, value),
  );
}

function memberRow(m: MemberRow): HTMLElement {
  const st = m.status;
  // A member nobody could ask is not known to follow: it may be down or cut off.
  const role = m.member.isLearner
    ? "learner"
    : m.isLeader
      ? "leader"
      : m.source === "unreachable"
        ? "unknown"
        : "follower";
  const dash = st === undefined ? "—" : undefined;
  return h(
    "tr",
    {
      class: `${m.isLeader ? "leader " : ""}${m.source}`,
      "data-member-name": m.member.name,
      "data-member-id": formatId(m.member.ID),
      "data-role": role,
    },
    h("td", {}, m.member.name || "(unstarted)"),
    h("td", { class: "mono" }, formatId(m.member.ID)),
    h("td", {}, h("span", { class: `badge ${role}` }, role)),
    h("td", {}, dash ?? String(st?.raftTerm)),
    h("td", {}, dash ?? String(st?.raftIndex)),
    h("td", {}, dash ?? String(st?.raftAppliedIndex)),
    h("td", {}, st === undefined ? "—" : `${formatBytes(st.dbSize)} (${formatBytes(st.dbSizeInUse)})`),
    h("td", {}, dash ?? st?.version ?? ""),
    h(
      "td",
      { class: m.alarms.length > 0 ? "alarm" : "" },
      m.alarms.length === 0 ? "none" : m.alarms.join(", "),
      st !== undefined && st.errors.length > 0 ? h("div", { class: "alarm" }, st.errors.join("; ")) : null,
    ),
    h(
      "td",
      { class: "mono" },
      m.member.clientURLs.join(", "),
      m.source === "unreachable"
        ? h("div", { class: "muted" }, "status not reachable from the browser")
        : null,
    ),
  );
}
