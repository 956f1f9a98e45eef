import type { EtcdApi } from "../api/etcd-api.js";
import { h, replaceChildren } from "../shell/element.js";
import { formatId } from "../shell/format.js";
import { textOf } from "./key-bytes.js";

/** MAX_LISTED_LEASES bounds how many leases the list asks details for. */
export const MAX_LISTED_LEASES = 50;

/**
 * LeaseList shows the cluster's leases (Lease.LeaseLeases) with their remaining and granted TTL and the
 * keys attached to each (Lease.LeaseTimeToLive with keys); clicking a key opens it in the key browser.
 */
export class LeaseList {
  readonly element = h("div", { class: "lease-list", "data-testid": "lease-list" });

  constructor(
    private readonly api: EtcdApi,
    private readonly openKey: (key: string) => void,
  ) {}

  /** refresh reloads the leases; errors are shown in place (e.g. no permission to list leases). */
  async refresh(): Promise<void> {
    try {
      const { leases } = await this.api.lease.leaseLeases({});
      const shown = leases.slice(0, MAX_LISTED_LEASES);
      const details = await Promise.all(
        shown.map((l) => this.api.lease.leaseTimeToLive({ ID: l.ID, keys: true })),
      );
      replaceChildren(
        this.element,
        details.length === 0 ? h("p", { class: "muted" }, "No leases.") : null,
        details.length === 0
          ? null
          : h(
              "table",
              { class: "leases" },
              h("thead", {}, h("tr", {}, h("th", {}, "lease"), h("th", {}, "TTL"), h("th", {}, "keys"))),
              h(
                "tbody",
                {},
                details.map((d) =>
                  h(
                    "tr",
                    { "data-lease-id": formatId(d.ID) },
                    h("td", { class: "mono" }, formatId(d.ID)),
                    h("td", {}, d.TTL < 0n ? "expired" : `${d.TTL} s / ${d.grantedTTL} s`),
                    h(
                      "td",
                      {},
                      d.keys.length === 0 ? h("span", { class: "muted" }, "none") : null,
                      d.keys.map((k) => {
                        const key = textOf(k);
                        return h(
                          "button",
                          { class: "link lease-key", onclick: () => this.openKey(key) },
                          key,
                        );
                      }),
                    ),
                  ),
                ),
              ),
            ),
        leases.length > shown.length
          ? h("p", { class: "muted" }, `Showing ${shown.length} of ${leases.length} leases.`)
          : null,
      );
    } catch (err) {
      replaceChildren(this.element, h("p", { class: "error" }, `Leases: ${(err as Error).message}`));
    }
  }
}
