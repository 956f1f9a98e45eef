import { EntryType } from "@etcd-ts/raft";
import { h, replaceChildren } from "../shell/element.js";
import { termColor } from "./message-style.js";
import type { SimAction } from "./sim-action.js";
import { decodeCommand, type SimNode } from "./sim-node.js";
import type { Simulation } from "./simulation.js";

/** LOG_CELLS is how many of a node's newest log entries a card shows. */
export const LOG_CELLS = 18;

/**
 * NodeCard shows one simulated node: role, term, vote, commit and applied index, its log (committed entries
 * solid, uncommitted ones dashed, colored by term), and its controls. The card's elements are built once
 * and updated in place, so a click is never lost to a redraw.
 */
export class NodeCard {
  readonly element: HTMLElement;
  readonly #facts: HTMLElement;
  readonly #log: HTMLElement;
  readonly #crash: HTMLButtonElement;
  readonly #isolate: HTMLButtonElement;
  readonly #request: HTMLButtonElement;
  #logSignature = "";

  constructor(
    readonly id: bigint,
    act: (action: SimAction) => void,
    up: () => boolean,
    onSelect: (id: bigint) => void,
  ) {
    this.#facts = h("div", { class: "facts" });
    this.#log = h("div", { class: "log", "data-testid": `log-${id}` });
    this.#crash = h(
      "button",
      {
        type: "button",
        "data-testid": `crash-${id}`,
        onclick: () => act(up() ? { kind: "crash", node: id } : { kind: "restart", node: id }),
      },
      "Crash",
    );
    this.#isolate = h(
      "button",
      { type: "button", "data-testid": `isolate-${id}`, onclick: () => act({ kind: "isolate", node: id }) },
      "Isolate",
    );
    this.#request = h(
      "button",
      { type: "button", "data-testid": `request-${id}`, onclick: () => act({ kind: "request", node: id }) },
      "Request here",
    );
    this.element = h(
      "div",
      { class: "node-card", "data-node-id": String(id), onclick: () => onSelect(id) },
      h("div", { class: "card-head" }, h("b", {}, `n${id}`), this.#facts),
      h("div", { class: "card-buttons" }, this.#crash, this.#isolate, this.#request),
      this.#log,
    );
  }

  /** update shows the node's state at the simulation's current time. */
  update(sim: Simulation, node: SimNode, selected: boolean): void {
    const role = node.role();
    const term = node.term();
    const commit = node.commit();
    const group = sim.network.groupOf(node.id);
    this.element.className = `node-card ${role}${selected ? " selected" : ""}`;
    this.element.dataset.role = role;
    this.element.dataset.term = String(term);
    this.element.dataset.commit = String(commit);
    const vote = node.up ? node.raw.raft.vote : node.storage.savedHardState().vote;
    const applied = node.up ? node.raw.raft.raftLog.applied : 0;
    const facts = [
      role,
      `term ${term}`,
      `vote ${vote === 0n ? "—" : `n${vote}`}`,
      `commit ${commit}`,
      `applied ${node.up ? applied : "—"}`,
      group > 0 ? `partition group ${group}` : "",
    ]
      .filter((s) => s !== "")
      .join(" · ");
    if (this.#facts.textContent !== facts) this.#facts.textContent = facts;
    this.#crash.textContent = node.up ? "Crash" : "Restart";
    const alone = group > 0 && sim.nodeIds.every((i) => i === node.id || sim.network.groupOf(i) !== group);
    this.#isolate.disabled = alone;
    this.#request.disabled = !node.up;
    const entries = node.log(Math.max(0, node.storage.lastIndex() - LOG_CELLS));
    const last = entries.at(-1);
    const signature = `${entries[0]?.index}:${last?.index}:${last?.term}:${commit}:${role}`;
    if (signature === this.#logSignature) return;
    this.#logSignature = signature;
    replaceChildren(
      this.#log,
      entries.length === 0 ? h("span", { class: "muted" }, "empty log") : null,
      entries.map((e) => {
        const text =
          e.type === EntryType.Normal && e.data.length > 0 ? decodeCommand(e.data) : "(empty: new leader)";
        const committed = e.index <= commit;
        return h(
          "span",
          {
            class: `entry ${committed ? "committed" : "uncommitted"}`,
            style: `--term-color: ${termColor(e.term)}`,
            title: `index ${e.index}, term ${e.term}${committed ? ", committed" : ", not committed"}: ${text}`,
            "data-index": e.index,
          },
          h("small", {}, String(e.index)),
          String(e.term),
        );
      }),
    );
  }
}
