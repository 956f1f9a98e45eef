import { h, replaceChildren } from "../shell/element.js";
import type { View } from "../shell/view.js";
import { ClusterDrawing } from "./cluster-drawing.js";
import { NodeCard } from "./node-card.js";
import type { SimAction } from "./sim-action.js";
import { type SimEvent, Simulation } from "./simulation.js";

/** SPEEDS are the offered ratios of simulated to real time. */
export const SPEEDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 20] as const;
/** DEFAULT_SPEED makes a 100 ms tick last 0.4 s on screen: slow enough to follow single messages. */
export const DEFAULT_SPEED = 0.25;
/** MAX_FRAME_MS caps the simulated time one animation frame may advance (e.g. after a hidden tab). */
export const MAX_FRAME_MS = 100;
/** EVENT_LOG_LINES is how many history events the playground lists. */
export const EVENT_LOG_LINES = 60;

/**
 * PlaygroundView runs the real @etcd-ts/raft in the page: a {@link Simulation} of 3 or 5 nodes advanced by
 * the animation clock at the chosen speed, drawn as a {@link ClusterDrawing} with a {@link NodeCard} per node,
 * plus controls for client requests, crashes, partitions, pause/step/speed and seeds.
 * URL parameters: `seed`, `nodes` (3 or 5), `speed`, `paused=1`.
 */
export class PlaygroundView implements View {
  #sim: Simulation | undefined;
  #drawing: ClusterDrawing | undefined;
  #cards: NodeCard[] = [];
  #selected: bigint | undefined;
  #speed = DEFAULT_SPEED;
  #paused = false;
  #frame: number | undefined;
  #lastFrame: number | undefined;
  #historyShown = -1;
  #els:
    | {
        stage: HTMLElement;
        cards: HTMLElement;
        events: HTMLElement;
        clock: HTMLElement;
        leader: HTMLElement;
        error: HTMLElement;
        seed: HTMLInputElement;
        nodes: HTMLSelectElement;
        speed: HTMLSelectElement;
        pause: HTMLButtonElement;
        load: HTMLInputElement;
      }
    | undefined;

  mount(container: HTMLElement, params: URLSearchParams): void {
    const seed = Number.parseInt(params.get("seed") ?? "1", 10);
    const nodes = params.get("nodes") === "3" ? 3 : 5;
    const speed = Number(params.get("speed") ?? DEFAULT_SPEED);
    this.#speed = Number.isFinite(speed) && speed > 0 ? speed : DEFAULT_SPEED;
    this.#paused = params.get("paused") === "1";

    const seedInput = h("input", {
      type: "number",
      name: "seed",
      value: Number.isSafeInteger(seed) ? seed : 1,
      min: 0,
    });
    const nodesSelect = h(
      "select",
      { name: "nodes", onchange: () => this.#start(this.#seedValue(), []) },
      h("option", { value: "3", selected: nodes === 3 }, "3 nodes"),
      h("option", { value: "5", selected: nodes === 5 }, "5 nodes"),
    );
    const speedSelect = h(
      "select",
      {
        name: "speed",
        "data-testid": "speed",
        onchange: () => {
          this.#speed = Number(speedSelect.value);
          this.#updateUrl();
        },
      },
      [...new Set([...SPEEDS, this.#speed])]
        .sort((a, b) => a - b)
        .map((s) => h("option", { value: String(s), selected: s === this.#speed }, `${s}× real time`)),
    );
    const pause = h(
      "button",
      { type: "button", "data-testid": "pause", onclick: () => this.#togglePause() },
      "Pause",
    );
    const load = h("input", {
      type: "checkbox",
      "data-testid": "load",
      onchange: () => this.#act({ kind: "load", on: load.checked }),
    });
    this.#els = {
      stage: h("div", { class: "stage" }),
      cards: h("div", { class: "cards" }),
      events: h("ol", { class: "events", "data-testid": "pg-events" }),
      clock: h("span", { class: "clock mono" }),
      leader: h("span", { class: "pg-leader", "data-testid": "pg-leader" }),
      error: h("div", { class: "error", role: "alert", hidden: true }),
      seed: seedInput,
      nodes: nodesSelect,
      speed: speedSelect,
      pause,
      load,
    };
    const button = (label: string, testid: string, onclick: () => void, title = "") =>
      h("button", { type: "button", "data-testid": testid, title, onclick }, label);
    replaceChildren(
      container,
      h(
        "div",
        { class: "playground" },
        h(
          "div",
          { class: "controls" },
          h(
            "div",
            { class: "control-group" },
            pause,
            button("Step", "step", () => this.#step(), "run the next instant with events"),
            speedSelect,
          ),
          h(
            "div",
            { class: "control-group" },
            h("label", {}, "seed ", seedInput),
            nodesSelect,
            button(
              "Run seed",
              "run-seed",
              () => this.#start(this.#seedValue(), []),
              "start this seed afresh",
            ),
            button(
              "Replay",
              "replay",
              () => this.#start(this.#sim?.seed ?? this.#seedValue(), this.#sim?.script ?? []),
              "start over with this seed and your actions so far: the same history again",
            ),
            button("Random seed", "random-seed", () =>
              this.#start(Math.floor(Math.random() * 1_000_000), []),
            ),
          ),
          h(
            "div",
            { class: "control-group" },
            button("Client request", "client-request", () => this.#act({ kind: "request" })),
            h("label", {}, load, " client load"),
            button(
              "Partition leader",
              "partition",
              () => this.#partitionLeader(),
              "cut the leader off with a minority",
            ),
            button("Heal", "heal", () => this.#act({ kind: "heal" })),
          ),
        ),
        h("div", { class: "status-bar" }, this.#els.clock, this.#els.leader),
        this.#els.error,
        h("div", { class: "pg-main" }, this.#els.stage, this.#els.cards),
        h(
          "div",
          { class: "legend" },
          legend("vote", "votes (pre-vote, vote)"),
          legend("append", "log appends"),
          legend("heartbeat", "heartbeats"),
          legend("proposal", "forwarded proposals"),
          h(
            "span",
            {},
            "hollow = response · ring = election timer · log: solid = committed, dashed = not yet",
          ),
        ),
        h("h3", {}, "Events"),
        this.#els.events,
      ),
    );
    this.#start(Number.isSafeInteger(seed) ? seed : 1, []);
    this.#lastFrame = undefined;
    this.#frame = requestAnimationFrame((t) => this.#tick(t));
  }

  unmount(): void {
    if (this.#frame !== undefined) cancelAnimationFrame(this.#frame);
    this.#frame = undefined;
  }

  #seedValue(): number {
    const v = Number.parseInt(this.#els?.seed.value ?? "1", 10);
    return Number.isSafeInteger(v) && v >= 0 ? v : 1;
  }

  #start(seed: number, script: Simulation["script"]): void {
    const els = this.#els;
    if (els === undefined) return;
    const nodes = els.nodes.value === "3" ? 3 : 5;
    els.seed.value = String(seed);
    els.error.hidden = true;
    els.load.checked = false;
    this.#sim = new Simulation({ seed, nodes, script: [...script] });
    this.#selected = undefined;
    this.#historyShown = -1;
    const sim = this.#sim;
    this.#drawing = new ClusterDrawing(sim.nodeIds, (id) => this.#select(id));
    this.#cards = sim.nodeIds.map(
      (id) =>
        new NodeCard(
          id,
          (a) => this.#act(a),
          () => sim.node(id).up,
          (nid) => this.#select(nid),
        ),
    );
    replaceChildren(els.stage, this.#drawing.element);
    replaceChildren(
      els.cards,
      this.#cards.map((c) => c.element),
    );
    this.#updateUrl();
    this.#render();
  }

  #updateUrl(): void {
    const sim = this.#sim;
    if (sim === undefined) return;
    const params = new URLSearchParams({ seed: String(sim.seed), nodes: String(sim.nodeIds.length) });
    if (this.#speed !== DEFAULT_SPEED) params.set("speed", String(this.#speed));
    history.replaceState(null, "", `#/playground?${params}`);
  }

  #select(id: bigint): void {
    this.#selected = this.#selected === id ? undefined : id;
    this.#render();
  }

  #togglePause(): void {
    this.#paused = !this.#paused;
    this.#render();
  }

  #step(): void {
    this.#paused = true;
    this.#guard(() => this.#sim?.stepInstant());
    this.#render();
  }

  #act(action: SimAction): void {
    this.#guard(() => this.#sim?.act(action));
    if (this.#els !== undefined && action.kind === "load") this.#els.load.checked = action.on;
    this.#render();
  }

  #partitionLeader(): void {
    const sim = this.#sim;
    if (sim === undefined) return;
    const leader = sim.leader()?.id ?? sim.nodeIds[0]!;
    const minoritySize = Math.floor((sim.nodeIds.length - 1) / 2);
    const minority = [leader, ...sim.nodeIds.filter((id) => id !== leader).slice(0, minoritySize - 1)];
    const majority = sim.nodeIds.filter((id) => !minority.includes(id));
    this.#act({ kind: "partition", groups: [minority, majority] });
  }

  /** guard runs a simulation step; a broken raft invariant stops the run and shows the seed. */
  #guard(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.#paused = true;
      if (this.#els !== undefined) {
        this.#els.error.hidden = false;
        this.#els.error.textContent = `Simulation stopped (seed ${this.#sim?.seed}): ${(err as Error).message}`;
      }
    }
  }

  #tick(now: number): void {
    const sim = this.#sim;
    if (sim !== undefined && !this.#paused && this.#lastFrame !== undefined) {
      const advance = Math.min(MAX_FRAME_MS, (now - this.#lastFrame) * this.#speed);
      this.#guard(() => sim.advanceTo(sim.now + advance));
    }
    this.#lastFrame = now;
    this.#render();
    this.#frame = requestAnimationFrame((t) => this.#tick(t));
  }

  #render(): void {
    const sim = this.#sim;
    const els = this.#els;
    if (sim === undefined || els === undefined) return;
    this.#drawing?.update(sim, this.#selected);
    sim.nodeIds.forEach((id, i) => {
      this.#cards[i]?.update(sim, sim.node(id), id === this.#selected);
    });
    els.pause.textContent = this.#paused ? "Play" : "Pause";
    els.load.checked = sim.loadOn; // a replayed script may switch the load on or off
    els.clock.textContent = `t = ${(sim.now / 1000).toFixed(2)} s · ${sim.network.inFlight().length} in flight · ${sim.stats.delivered} delivered · ${sim.stats.lost} lost`;
    const leader = sim.leader();
    const leaderText = leader === undefined ? "no leader" : `leader n${leader.id} · term ${leader.term()}`;
    if (els.leader.textContent !== leaderText) {
      els.leader.textContent = leaderText;
      els.leader.dataset.leader = leader === undefined ? "" : String(leader.id);
      els.leader.dataset.term = leader === undefined ? "" : String(leader.term());
    }
    if (sim.eventsRecorded !== this.#historyShown) {
      this.#historyShown = sim.eventsRecorded;
      replaceChildren(
        els.events,
        sim.history
          .slice(-EVENT_LOG_LINES)
          .reverse()
          .map((e) =>
            h(
              "li",
              { class: `ev ${e.kind}` },
              h("span", { class: "mono muted" }, `${(e.at / 1000).toFixed(3)} s `),
              describeEvent(e),
            ),
          ),
      );
    }
  }
}

function legend(kind: string, label: string): HTMLElement {
  return h("span", { class: "legend-item" }, h("span", { class: `swatch ${kind}` }), label);
}

function describeEvent(e: SimEvent): string {
  switch (e.kind) {
    case "role":
      return e.role === "down" ? `n${e.node} crashed` : `n${e.node} became ${e.role} in term ${e.term}`;
    case "commit":
      return `leader n${e.node} committed up to index ${e.index} (term ${e.term})`;
    case "action":
      return `you: ${e.text}`;
    case "request":
      return e.outcome === "proposed"
        ? `${e.command} proposed at n${e.node}`
        : `${e.command} dropped${e.node === undefined ? "" : ` at n${e.node}`}: ${e.reason}`;
  }
}
