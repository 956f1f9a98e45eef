import { messageTypeName } from "@etcd-ts/raft";
import { svg } from "../shell/element.js";
import { isResponse, messageKind } from "./message-style.js";
import type { Simulation } from "./simulation.js";

const SIZE = 440;
const CENTER = SIZE / 2;
const ORBIT = 160;
const NODE_RADIUS = 36;

interface NodeShape {
  group: SVGGElement;
  body: SVGCircleElement;
  timer: SVGCircleElement;
  title: SVGTextElement;
  term: SVGTextElement;
  vote: SVGTextElement;
}

/**
 * ClusterDrawing is the SVG picture of the simulated cluster: nodes on a circle colored by role, a ring
 * showing how far each follower is through its election timeout, the partition groups, and every message
 * in flight as a dot moving from sender to receiver (position = elapsed share of its delay).
 */
export class ClusterDrawing {
  readonly element: SVGSVGElement;
  readonly #messages: SVGGElement;
  readonly #shapes = new Map<bigint, NodeShape>();
  readonly #positions = new Map<bigint, { x: number; y: number }>();

  constructor(
    readonly nodeIds: readonly bigint[],
    onSelect: (id: bigint) => void,
  ) {
    this.#messages = svg("g", { class: "messages" });
    const nodes = svg("g", { class: "nodes" });
    nodeIds.forEach((id, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / nodeIds.length;
      const pos = { x: CENTER + ORBIT * Math.cos(angle), y: CENTER + ORBIT * Math.sin(angle) };
      this.#positions.set(id, pos);
      const circumference = 2 * Math.PI * (NODE_RADIUS + 6);
      const shape: NodeShape = {
        body: svg("circle", { r: NODE_RADIUS, class: "node-body" }),
        timer: svg("circle", {
          r: NODE_RADIUS + 6,
          class: "node-timer",
          "stroke-dasharray": `0 ${circumference}`,
          transform: "rotate(-90)",
        }),
        title: svg("text", { class: "node-title", y: -6 }, `n${id}`),
        term: svg("text", { class: "node-term", y: 12 }),
        vote: svg("text", { class: "node-vote", y: NODE_RADIUS + 22 }),
        group: svg("g", {
          class: "node",
          transform: `translate(${pos.x} ${pos.y})`,
          "data-node-id": String(id),
        }),
      };
      shape.group.append(shape.timer, shape.body, shape.title, shape.term, shape.vote);
      shape.group.addEventListener("click", () => onSelect(id));
      this.#shapes.set(id, shape);
      nodes.appendChild(shape.group);
    });
    this.element = svg(
      "svg",
      {
        viewBox: `0 0 ${SIZE} ${SIZE}`,
        class: "cluster-drawing",
        role: "img",
        "aria-label": "simulated cluster",
      },
      svg("circle", { cx: CENTER, cy: CENTER, r: ORBIT, class: "orbit" }),
      this.#messages,
      nodes,
    );
  }

  /** update redraws the nodes' state and the messages in flight at the simulation's current time. */
  update(sim: Simulation, selected: bigint | undefined): void {
    for (const n of sim.nodes()) {
      const shape = this.#shapes.get(n.id);
      if (shape === undefined) continue;
      const role = n.role();
      const group = sim.network.groupOf(n.id);
      shape.group.setAttribute(
        "class",
        `node ${role}${n.id === selected ? " selected" : ""}${group > 0 ? ` group-${group % 4}` : ""}`,
      );
      shape.group.setAttribute("data-role", role);
      shape.group.setAttribute("data-term", String(n.term()));
      shape.term.textContent = role === "down" ? "down" : `term ${n.term()}`;
      const vote = n.up ? n.raw.raft.vote : n.storage.savedHardState().vote;
      shape.vote.textContent =
        role === "down" ? "" : role === "leader" ? "leader" : vote === 0n ? "" : `voted n${vote}`;
      // Election timer: how much of the randomized timeout has elapsed (full ring for a leader).
      const circumference = 2 * Math.PI * (NODE_RADIUS + 6);
      let share = 0;
      if (n.up) {
        const r = n.raw.raft;
        share =
          role === "leader" ? 1 : Math.min(1, r.electionElapsed / Math.max(1, r.randomizedElectionTimeout));
      }
      shape.timer.setAttribute("stroke-dasharray", `${share * circumference} ${circumference}`);
    }
    const dots: SVGElement[] = [];
    for (const f of sim.network.inFlight()) {
      const from = this.#positions.get(f.message.from);
      const to = this.#positions.get(f.message.to);
      if (from === undefined || to === undefined) continue;
      const t = Math.min(1, Math.max(0, (sim.now - f.sentAt) / (f.deliverAt - f.sentAt)));
      // Start and end on the rims, not the centers.
      const dx = to.x - from.x;
      const dy = to.y - from.y;
      const len = Math.hypot(dx, dy);
      const ux = dx / len;
      const uy = dy / len;
      const sx = from.x + ux * NODE_RADIUS;
      const sy = from.y + uy * NODE_RADIUS;
      const travel = len - 2 * NODE_RADIUS;
      const big = f.message.entries.length > 0;
      dots.push(
        svg(
          "circle",
          {
            cx: (sx + ux * travel * t).toFixed(1),
            cy: (sy + uy * travel * t).toFixed(1),
            r: big ? 7 : 5,
            class: `msg ${messageKind(f.message)}${isResponse(f.message) ? " response" : ""}${f.message.reject ? " reject" : ""}`,
          },
          svg(
            "title",
            {},
            `${messageTypeName(f.message.type)} n${f.message.from}→n${f.message.to} term ${f.message.term}`,
          ),
        ),
      );
    }
    this.#messages.replaceChildren(...dots);
  }
}
