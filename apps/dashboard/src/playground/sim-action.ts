/**
 * SimAction is one thing a user does to the playground. Actions are recorded with the simulated time they
 * happened at, so replaying a seed with the same script reproduces the same history.
 */
export type SimAction =
  /** A client request: proposed at `node`, or at the current leader when `node` is omitted. */
  | { kind: "request"; node?: bigint }
  | { kind: "crash"; node: bigint }
  | { kind: "restart"; node: bigint }
  /** isolate cuts `node` off from every other node (a partition of one). */
  | { kind: "isolate"; node: bigint }
  /** partition splits the nodes into groups that cannot talk to each other. */
  | { kind: "partition"; groups: bigint[][] }
  | { kind: "heal" }
  /** load turns a steady stream of client requests (every ~300 ms of simulated time) on or off. */
  | { kind: "load"; on: boolean };

/** ScriptedAction is a {@link SimAction} at a simulated time in milliseconds. */
export interface ScriptedAction {
  at: number;
  action: SimAction;
}

/** describeAction renders an action for the event log. */
export function describeAction(action: SimAction): string {
  switch (action.kind) {
    case "request":
      return action.node === undefined
        ? "client request to the leader"
        : `client request at node ${action.node}`;
    case "crash":
      return `crash node ${action.node}`;
    case "restart":
      return `restart node ${action.node}`;
    case "isolate":
      return `isolate node ${action.node}`;
    case "partition":
      return `partition ${action.groups.map((g) => `{${g.join(",")}}`).join(" | ")}`;
    case "heal":
      return "heal the network";
    case "load":
      return action.on ? "client load on" : "client load off";
  }
}
