import type { Message } from "@etcd-ts/raft";

/** InFlightMessage is a raft message travelling between two simulated nodes. */
export interface InFlightMessage {
  /** id is unique within one simulation (the animation keys on it). */
  readonly id: number;
  readonly message: Message;
  /** sentAt and deliverAt are simulated milliseconds; sentAt < deliverAt. */
  readonly sentAt: number;
  readonly deliverAt: number;
}

/**
 * SimNetwork is the playground's network: the messages in flight and the current partition. A partition
 * assigns every node a group; only nodes of the same group can talk. Messages are checked both when sent
 * and when they arrive, so healing never delivers what was cut off.
 */
export class SimNetwork {
  readonly #group = new Map<bigint, number>();
  readonly #inFlight = new Map<number, InFlightMessage>();
  #nextId = 1;

  /** inFlight lists the messages on the wire, oldest first. */
  inFlight(): InFlightMessage[] {
    return [...this.#inFlight.values()];
  }

  /** send puts a message on the wire and returns it (the caller schedules its delivery). */
  send(message: Message, sentAt: number, deliverAt: number): InFlightMessage {
    const flight = { id: this.#nextId++, message, sentAt, deliverAt };
    this.#inFlight.set(flight.id, flight);
    return flight;
  }

  /** take removes a message from the wire when it arrives (or is lost). */
  take(id: number): InFlightMessage | undefined {
    const flight = this.#inFlight.get(id);
    this.#inFlight.delete(id);
    return flight;
  }

  /** connected tells whether `a` and `b` are on the same side of the partition. */
  connected(a: bigint, b: bigint): boolean {
    return this.groupOf(a) === this.groupOf(b);
  }

  /** groupOf is the partition group of `node` (0 when the network is whole). */
  groupOf(node: bigint): number {
    return this.#group.get(node) ?? 0;
  }

  /** partitioned tells whether any partition is in place. */
  partitioned(): boolean {
    return [...this.#group.values()].some((g) => g !== 0);
  }

  /** partition splits the nodes into `groups`; nodes not listed stay in group 0. */
  partition(groups: bigint[][]): void {
    this.#group.clear();
    groups.forEach((members, i) => {
      for (const node of members) this.#group.set(node, i + 1);
    });
  }

  /** isolate moves `node` into a group of its own, leaving the others' groups as they are. */
  isolate(node: bigint): void {
    const used = new Set(this.#group.values());
    let g = 1;
    while (used.has(g)) g++;
    this.#group.set(node, g);
  }

  /** heal removes every partition. */
  heal(): void {
    this.#group.clear();
  }
}
