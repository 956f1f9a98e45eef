import { Event_EventType, type KeyValue } from "@etcd-ts/proto/mvccpb";
import type { EtcdApi } from "../api/etcd-api.js";
import { openWatchStream } from "../api/watch-stream.js";
import { confirmAction } from "../shell/confirm-dialog.js";
import { h, replaceChildren } from "../shell/element.js";
import { formatClock, formatId } from "../shell/format.js";
import type { View } from "../shell/view.js";
import { displayBytes, keyBytes, prefixEnd, textOf } from "./key-bytes.js";
import { keyHistory } from "./key-history.js";
import { keyTree, parentPrefix } from "./key-tree.js";
import { LeaseList } from "./lease-list.js";

/** MAX_LISTED_KEYS bounds one listing of the key browser (the rest is summarized). */
export const MAX_LISTED_KEYS = 1_000;
/** MAX_FEED_EVENTS bounds the live feed of watch events. */
export const MAX_FEED_EVENTS = 30;
/** WATCH_RETRY_MS is the pause before the browser reopens a watch that ended. */
export const WATCH_RETRY_MS = 1_000;
/** LIST_REFRESH_DEBOUNCE_MS groups bursts of watch events into one listing refresh. */
export const LIST_REFRESH_DEBOUNCE_MS = 150;

/**
 * KeyBrowser lists keys by prefix like folders, shows a key's value, revisions, lease and past versions,
 * stays current through a watch on the prefix, and puts or deletes keys after a confirmation.
 */
export class KeyBrowser implements View {
  #prefix = "";
  #selected: string | undefined;
  #watch: AbortController | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #mounted = false;
  readonly #feed: HTMLElement[] = [];
  /** Keys changed since the last debounced refresh. */
  readonly #changed = new Set<string>();
  #els:
    | {
        crumbs: HTMLElement;
        list: HTMLElement;
        detail: HTMLElement;
        feed: HTMLElement;
        live: HTMLElement;
        status: HTMLElement;
        putKey: HTMLInputElement;
        putValue: HTMLTextAreaElement;
        putLease: HTMLInputElement;
      }
    | undefined;

  readonly #leases: LeaseList;

  constructor(private readonly api: EtcdApi) {
    this.#leases = new LeaseList(api, (key) => void this.#select(key));
  }

  mount(container: HTMLElement, params: URLSearchParams): void {
    this.#mounted = true;
    this.#feed.length = 0;
    this.#selected = undefined;
    const putKey = h("input", { type: "text", name: "key", placeholder: "key", "data-testid": "put-key" });
    const putValue = h("textarea", {
      name: "value",
      rows: 3,
      placeholder: "value",
      "data-testid": "put-value",
    });
    const putLease = h("input", { type: "text", name: "lease", placeholder: "lease id (hex, optional)" });
    this.#els = {
      crumbs: h("div", { class: "crumbs" }),
      list: h("ul", { class: "key-list", "data-testid": "key-list" }),
      detail: h(
        "div",
        { class: "key-detail", "data-testid": "key-detail" },
        h("p", { class: "muted" }, "Select a key."),
      ),
      feed: h("ul", { class: "feed", "data-testid": "watch-feed" }),
      live: h("span", { class: "live off" }, "connecting…"),
      status: h("div", { class: "status-line", role: "status" }),
      putKey,
      putValue,
      putLease,
    };
    const prefixInput = h("input", { type: "text", name: "prefix", placeholder: "prefix, e.g. /registry/" });
    const els = this.#els;
    replaceChildren(
      container,
      h(
        "div",
        { class: "keys" },
        h(
          "section",
          { class: "pane list-pane" },
          h(
            "form",
            {
              class: "prefix-form",
              onsubmit: (ev) => {
                ev.preventDefault();
                this.#navigate(prefixInput.value);
              },
            },
            prefixInput,
            h("button", { type: "submit" }, "Go"),
          ),
          els.crumbs,
          els.list,
          h("h3", {}, "Live changes ", els.live),
          els.feed,
          h(
            "h3",
            {},
            "Leases ",
            h(
              "button",
              { type: "button", class: "link small", onclick: () => void this.#leases.refresh() },
              "refresh",
            ),
          ),
          this.#leases.element,
        ),
        h(
          "section",
          { class: "pane detail-pane" },
          els.detail,
          h(
            "form",
            {
              class: "put-form",
              onsubmit: (ev) => {
                ev.preventDefault();
                void this.#put();
              },
            },
            h("h3", {}, "Put a key"),
            putKey,
            putValue,
            putLease,
            h("button", { type: "submit", "data-testid": "put-submit" }, "Put…"),
          ),
          els.status,
        ),
      ),
    );
    this.#navigate(params.get("prefix") ?? "");
    void this.#leases.refresh();
    const key = params.get("key");
    if (key !== null) void this.#select(key);
  }

  unmount(): void {
    this.#mounted = false;
    this.#watch?.abort();
    clearTimeout(this.#refreshTimer);
  }

  #navigate(prefix: string): void {
    this.#prefix = prefix;
    this.#updateHash();
    if (this.#els !== undefined && this.#els.putKey.value === "") this.#els.putKey.value = prefix;
    void this.#loadList().then((revision) => {
      if (revision !== undefined) this.#startWatch(revision + 1n);
    });
  }

  #updateHash(): void {
    const params = new URLSearchParams();
    if (this.#prefix !== "") params.set("prefix", this.#prefix);
    if (this.#selected !== undefined) params.set("key", this.#selected);
    const query = params.toString();
    history.replaceState(null, "", `#/keys${query === "" ? "" : `?${query}`}`);
  }

  /** loadList lists the keys under the prefix and returns the revision of the listing. */
  async #loadList(): Promise<bigint | undefined> {
    const els = this.#els;
    if (els === undefined) return undefined;
    const prefix = this.#prefix;
    const key = prefix === "" ? new Uint8Array([0]) : keyBytes(prefix);
    const rangeEnd = prefix === "" ? new Uint8Array([0]) : prefixEnd(key);
    try {
      const res = await this.api.kv.range({ key, rangeEnd, keysOnly: true, limit: BigInt(MAX_LISTED_KEYS) });
      if (!this.#mounted || prefix !== this.#prefix) return undefined;
      this.#renderCrumbs();
      const entries = keyTree(
        res.kvs.map((kv) => textOf(kv.key)),
        prefix,
      );
      replaceChildren(
        els.list,
        prefix === ""
          ? null
          : h(
              "li",
              {},
              h("button", { class: "link", onclick: () => this.#navigate(parentPrefix(prefix)) }, "⬑ .."),
            ),
        entries.map((e) =>
          e.kind === "folder"
            ? h(
                "li",
                { class: "folder", "data-prefix": e.prefix },
                h("button", { class: "link", onclick: () => this.#navigate(e.prefix) }, `📁 ${e.name}`),
                h("span", { class: "muted" }, ` ${e.count}`),
              )
            : h(
                "li",
                { class: `key${e.key === this.#selected ? " selected" : ""}`, "data-key": e.key },
                h("button", { class: "link", onclick: () => void this.#select(e.key) }, e.name),
              ),
        ),
        entries.length === 0 ? h("li", { class: "muted" }, "No keys under this prefix.") : null,
        res.more
          ? h("li", { class: "muted" }, `Showing the first ${MAX_LISTED_KEYS} of ${res.count} keys.`)
          : null,
      );
      return res.header?.revision;
    } catch (err) {
      this.#status(`Listing failed: ${(err as Error).message}`, true);
      return undefined;
    }
  }

  #renderCrumbs(): void {
    const els = this.#els;
    if (els === undefined) return;
    const parts: HTMLElement[] = [
      h("button", { class: "link", onclick: () => this.#navigate("") }, "(all keys)"),
    ];
    let acc = "";
    for (const segment of this.#prefix.split(/(?<=\/)/)) {
      if (segment === "") continue;
      acc += segment;
      const target = acc;
      parts.push(
        h("span", { class: "muted" }, " › "),
        h("button", { class: "link", onclick: () => this.#navigate(target) }, segment),
      );
    }
    replaceChildren(els.crumbs, parts);
  }

  async #select(key: string, atRevision?: bigint): Promise<void> {
    const els = this.#els;
    if (els === undefined) return;
    this.#selected = key;
    this.#updateHash();
    for (const li of els.list.querySelectorAll("li.key")) {
      li.classList.toggle("selected", (li as HTMLElement).dataset.key === key);
    }
    try {
      const res = await this.api.kv.range({ key: keyBytes(key) });
      if (!this.#mounted || this.#selected !== key) return;
      const kv = res.kvs[0];
      if (kv === undefined) {
        replaceChildren(
          els.detail,
          h("h2", { class: "mono" }, key),
          h(
            "p",
            { class: "muted" },
            `Not present at revision ${res.header?.revision ?? "?"} (deleted or never written).`,
          ),
        );
        return;
      }
      const history = await keyHistory(this.api.kv, kv);
      if (!this.#mounted || this.#selected !== key) return;
      const shown = history.versions.find((v) => v.modRevision === atRevision) ?? kv;
      replaceChildren(els.detail, this.#renderDetail(kv, shown, history.versions, history.end));
      if (kv.lease !== 0n) void this.#showLease(kv.lease);
    } catch (err) {
      this.#status(`Reading ${key} failed: ${(err as Error).message}`, true);
    }
  }

  #renderDetail(latest: KeyValue, shown: KeyValue, versions: KeyValue[], end: string): HTMLElement {
    const key = textOf(latest.key);
    const past = shown !== latest;
    return h(
      "div",
      {},
      h("h2", { class: "mono" }, key),
      h(
        "div",
        { class: "value-box" },
        h(
          "div",
          { class: "label" },
          past ? `Value at revision ${shown.modRevision} (version ${shown.version})` : "Current value",
        ),
        h("pre", { class: "value", "data-testid": "key-value" }, displayBytes(shown.value)),
      ),
      h(
        "dl",
        { class: "facts" },
        fact("create revision", String(latest.createRevision)),
        fact("mod revision", String(latest.modRevision)),
        fact("version", String(latest.version)),
        fact("lease", latest.lease === 0n ? "none" : formatId(latest.lease)),
        fact("size", `${latest.value.length} B`),
      ),
      latest.lease === 0n
        ? null
        : h("div", { class: "lease-info", "data-testid": "lease-info" }, "Loading lease…"),
      h(
        "div",
        { class: "buttons" },
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              if (this.#els === undefined) return;
              this.#els.putKey.value = key;
              this.#els.putValue.value = displayBytes(latest.value);
              this.#els.putValue.focus();
            },
          },
          "Edit",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "data-testid": "delete-key",
            onclick: () => void this.#delete(key),
          },
          "Delete…",
        ),
      ),
      h("h3", {}, "History"),
      h(
        "table",
        { class: "history", "data-testid": "key-history" },
        h("thead", {}, h("tr", {}, h("th", {}, "revision"), h("th", {}, "version"), h("th", {}, "value"))),
        h(
          "tbody",
          {},
          versions.map((v) =>
            h(
              "tr",
              { class: v === shown ? "selected" : "" },
              h(
                "td",
                {},
                h(
                  "button",
                  { class: "link", onclick: () => void this.#select(key, v.modRevision) },
                  String(v.modRevision),
                ),
              ),
              h("td", {}, String(v.version)),
              h("td", { class: "mono clip" }, displayBytes(v.value)),
            ),
          ),
        ),
      ),
      h(
        "p",
        { class: "muted" },
        end === "created"
          ? `Created at revision ${latest.createRevision}.`
          : end === "compacted"
            ? "Older revisions were compacted."
            : "Older versions not shown.",
      ),
    );
  }

  async #showLease(id: bigint): Promise<void> {
    try {
      const ttl = await this.api.lease.leaseTimeToLive({ ID: id, keys: true });
      const box = this.#els?.detail.querySelector(".lease-info");
      if (box === null || box === undefined) return;
      replaceChildren(
        box,
        ttl.TTL < 0n
          ? `Lease ${formatId(id)} has expired.`
          : `Lease ${formatId(id)}: ${ttl.TTL} s left of ${ttl.grantedTTL} s, attached to ${ttl.keys.length} key(s): ${ttl.keys.map((k) => textOf(k)).join(", ")}`,
      );
    } catch (err) {
      this.#status(`Lease ${formatId(id)}: ${(err as Error).message}`, true);
    }
  }

  async #put(): Promise<void> {
    const els = this.#els;
    if (els === undefined) return;
    const key = els.putKey.value;
    const value = els.putValue.value;
    const leaseText = els.putLease.value.trim();
    if (key === "") return this.#status("A key is required.", true);
    let lease = 0n;
    if (leaseText !== "") {
      if (!/^[0-9a-fA-F]+$/.test(leaseText)) return this.#status("The lease id must be hexadecimal.", true);
      lease = BigInt(`0x${leaseText}`);
    }
    const ok = await confirmAction(
      "Put this key?",
      `key:   ${key}\nvalue: ${value}${lease === 0n ? "" : `\nlease: ${formatId(lease)}`}`,
      "Put",
    );
    if (!ok) return;
    try {
      const res = await this.api.kv.put({ key: keyBytes(key), value: keyBytes(value), lease });
      this.#status(`Put ${key} at revision ${res.header?.revision ?? "?"}.`, false);
      await this.#select(key);
    } catch (err) {
      this.#status(`Put failed: ${(err as Error).message}`, true);
    }
  }

  async #delete(key: string): Promise<void> {
    const ok = await confirmAction("Delete this key?", `key: ${key}`, "Delete");
    if (!ok) return;
    try {
      const res = await this.api.kv.deleteRange({ key: keyBytes(key) });
      this.#status(`Deleted ${res.deleted} key(s) at revision ${res.header?.revision ?? "?"}.`, false);
      await this.#select(key);
    } catch (err) {
      this.#status(`Delete failed: ${(err as Error).message}`, true);
    }
  }

  /** startWatch (re)opens the watch on the current prefix from `fromRevision`, reopening it when it ends. */
  #startWatch(fromRevision: bigint): void {
    this.#watch?.abort();
    const abort = new AbortController();
    this.#watch = abort;
    const prefix = this.#prefix;
    const key = prefix === "" ? new Uint8Array([0]) : keyBytes(prefix);
    const rangeEnd = prefix === "" ? new Uint8Array([0]) : prefixEnd(key);
    let next = fromRevision;
    const loop = async () => {
      while (!abort.signal.aborted) {
        // One attempt per stream; a watch the server cancels (e.g. compacted) ends its attempt.
        const attempt = new AbortController();
        const stopAttempt = () => attempt.abort();
        abort.signal.addEventListener("abort", stopAttempt);
        try {
          await openWatchStream(
            this.api.baseUrl,
            { key, rangeEnd, startRevision: next },
            (res) => {
              if (res.created && !res.canceled) this.#setLive(true, prefix);
              for (const ev of res.events) {
                if (ev.kv !== undefined) next = ev.kv.modRevision + 1n;
                this.#onEvent(ev.type === Event_EventType.DELETE ? "DELETE" : "PUT", ev.kv);
              }
              if (res.canceled) {
                // Compacted past `next`: resume from the oldest revision still kept, reload the listing.
                if (res.compactRevision > 0n) next = res.compactRevision;
                if (res.cancelReason !== "") this.#status(`Watch canceled: ${res.cancelReason}`, true);
                void this.#loadList();
                attempt.abort();
              }
            },
            attempt.signal,
            this.api.session?.token,
          );
        } catch (err) {
          if (!attempt.signal.aborted) this.#status(`Watch: ${(err as Error).message}`, true);
        } finally {
          abort.signal.removeEventListener("abort", stopAttempt);
        }
        if (abort.signal.aborted) return;
        this.#setLive(false, prefix);
        await new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS));
      }
    };
    void loop();
  }

  #setLive(on: boolean, prefix: string): void {
    const live = this.#els?.live;
    if (live === undefined) return;
    live.className = `live ${on ? "on" : "off"}`;
    live.textContent = on ? `● watching ${prefix === "" ? "all keys" : prefix}` : "reconnecting…";
  }

  #onEvent(type: "PUT" | "DELETE", kv: KeyValue | undefined): void {
    const els = this.#els;
    if (els === undefined || kv === undefined) return;
    const key = textOf(kv.key);
    this.#feed.unshift(
      h(
        "li",
        { class: type.toLowerCase() },
        h("span", { class: "muted" }, `${formatClock(new Date())} rev ${kv.modRevision} `),
        h("b", {}, type),
        " ",
        h("span", { class: "mono" }, key),
      ),
    );
    this.#feed.length = Math.min(this.#feed.length, MAX_FEED_EVENTS);
    replaceChildren(els.feed, this.#feed);
    this.#changed.add(key);
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => {
      void this.#loadList();
      void this.#leases.refresh();
      if (this.#selected !== undefined && this.#changed.has(this.#selected))
        void this.#select(this.#selected);
      this.#changed.clear();
    }, LIST_REFRESH_DEBOUNCE_MS);
  }

  #status(text: string, isError: boolean): void {
    const status = this.#els?.status;
    if (status === undefined) return;
    status.className = `status-line ${isError ? "error" : "ok"}`;
    status.textContent = text;
  }
}

function fact(label: string, value: string): HTMLElement[] {
  return [h("dt", {}, label), h("dd", {}, value)];
}
