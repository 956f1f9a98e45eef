import net from "node:net";
import type { Random } from "../random.js";

/**
 * LinkFault is what a peer proxy does to the traffic it carries. `from` limits a fault to connections
 * opened by the named members (undefined = every connection).
 */
export type LinkFault =
  /** blackhole: bytes in both directions vanish; the connections stay open (and are cut on heal). */
  | { readonly kind: "blackhole"; readonly from?: ReadonlySet<string> }
  /** inbound: only bytes towards this member vanish (a one-way cut); answers still flow. */
  | { readonly kind: "inbound"; readonly from?: ReadonlySet<string> }
  /** delay: every chunk waits meanMs +- jitterMs (order kept per direction). */
  | { readonly kind: "delay"; readonly meanMs: number; readonly jitterMs: number }
  /** drop: about `rate` of new connections are refused and live ones are cut at random. */
  | { readonly kind: "drop"; readonly rate: number };

interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** source is the member that opened the connection (looked up only when a fault needs it). */
  source: string | undefined;
  identified: boolean;
  /** poisoned links lost bytes: their byte stream is broken, so healing cuts them. */
  poisoned: boolean;
}

/** dropRoundMs is how often the drop fault rolls the dice for each live connection. */
const dropRoundMs = 200;

/**
 * FaultProxy is a TCP proxy in front of one member's peer port (the member advertises the proxy's port).
 * Faults are set and healed at run time; the proxy identifies each connection's opener (`identify`) so a
 * fault can apply to single links (a partition cuts the victim's links in both directions at every
 * proxy).
 */
export class FaultProxy {
  readonly #server: net.Server;
  readonly #links = new Set<Link>();
  readonly #rng: Random;
  #fault: LinkFault | undefined;
  #dropTimer: NodeJS.Timeout | undefined;
  /** bytes counts what went through (both directions), for the run report. */
  bytes = 0;
  /** cut counts connections the proxy cut. */
  cut = 0;

  readonly #identify: (remotePorts: readonly number[]) => ReadonlyMap<number, string>;

  private constructor(
    server: net.Server,
    rng: Random,
    identify: (remotePorts: readonly number[]) => ReadonlyMap<number, string>,
  ) {
    this.#server = server;
    this.#rng = rng;
    this.#identify = identify;
  }

  /** start listens on a free loopback port and forwards to `targetPort`. */
  static async start(
    targetPort: number,
    rng: Random,
    identify: (remotePorts: readonly number[]) => ReadonlyMap<number, string>,
  ): Promise<FaultProxy> {
    const server = net.createServer();
    const proxy = new FaultProxy(server, rng, identify);
    server.on("connection", (client) => proxy.#accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  get fault(): LinkFault | undefined {
    return this.#fault;
  }

  /** inject sets the fault (replacing any other). */
  inject(fault: LinkFault): void {
    this.#fault = fault;
    if ((fault.kind === "blackhole" || fault.kind === "inbound") && fault.from !== undefined) {
      this.#identifyLinks([...this.#links]);
    }
    if (this.#dropTimer !== undefined) clearInterval(this.#dropTimer);
    this.#dropTimer = undefined;
    if (fault.kind === "drop") {
      this.#dropTimer = setInterval(() => {
        for (const link of this.#links) if (this.#rng.chance(fault.rate)) this.#cut(link);
      }, dropRoundMs);
    }
  }

  /** heal removes the fault and cuts the links whose byte streams lost data. */
  heal(): void {
    this.#fault = undefined;
    if (this.#dropTimer !== undefined) clearInterval(this.#dropTimer);
    this.#dropTimer = undefined;
    for (const link of this.#links) if (link.poisoned) this.#cut(link);
  }

  /** cutAll drops every live connection (they reconnect). */
  cutAll(): void {
    for (const link of this.#links) this.#cut(link);
  }

  async close(): Promise<void> {
    this.heal();
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #cut(link: Link): void {
    this.cut++;
    link.client.destroy();
    link.upstream.destroy();
    this.#links.delete(link);
  }

  #identifyLinks(links: readonly Link[]): void {
    const pending = links.filter((l) => !l.identified && l.client.remotePort !== undefined);
    if (pending.length === 0) return;
    const owners = this.#identify(pending.map((l) => l.client.remotePort as number));
    for (const link of pending) {
      link.source = owners.get(link.client.remotePort as number);
      link.identified = true;
    }
  }

  #applies(link: Link, fault: LinkFault): boolean {
    if (fault.kind !== "blackhole" && fault.kind !== "inbound") return true;
    return fault.from === undefined || (link.source !== undefined && fault.from.has(link.source));
  }

  #accept(client: net.Socket, targetPort: number): void {
    const fault = this.#fault;
    if (fault?.kind === "drop" && this.#rng.chance(fault.rate)) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, "127.0.0.1");
    const link: Link = { client, upstream, source: undefined, identified: false, poisoned: false };
    this.#links.add(link);
    if ((fault?.kind === "blackhole" || fault?.kind === "inbound") && fault.from !== undefined) {
      this.#identifyLinks([link]);
    }
    const onClose = () => {
      client.destroy();
      upstream.destroy();
      this.#links.delete(link);
    };
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on("error", onClose);
      socket.on("close", onClose);
    }
    this.#pipe(link, client, upstream, 0);
    this.#pipe(link, upstream, client, 1);
  }

  /** pipe forwards one direction (0: towards the member, 1: back), applying the current fault. */
  #pipe(link: Link, from: net.Socket, to: net.Socket, direction: 0 | 1): void {
    const queue: Array<{ at: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && (queue[0]?.at ?? 0) <= now) {
        const item = queue.shift();
        if (item !== undefined && !to.destroyed) to.write(item.chunk);
      }
      const next = queue[0];
      if (next !== undefined) timer = setTimeout(pump, Math.max(0, next.at - now));
    };
    from.on("data", (chunk: Buffer) => {
      const fault = this.#fault;
      let delay = 0;
      if (fault !== undefined && this.#applies(link, fault)) {
        if (fault.kind === "blackhole" || (fault.kind === "inbound" && direction === 0)) {
          link.poisoned = true;
          return;
        }
        if (fault.kind === "delay") {
          delay = Math.max(0, fault.meanMs + (this.#rng.next() * 2 - 1) * fault.jitterMs);
        }
      }
      this.bytes += chunk.length;
      if (delay === 0 && queue.length === 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      // Delayed chunks (and any chunk behind them) go through the queue, in order.
      const at = Math.max(Date.now() + delay, queue[queue.length - 1]?.at ?? 0);
      queue.push({ at, chunk });
      if (timer === undefined) timer = setTimeout(pump, Math.max(0, at - Date.now()));
    });
    from.on("close", () => {
      if (timer !== undefined) clearTimeout(timer);
    });
  }
}
