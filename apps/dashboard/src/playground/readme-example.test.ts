import { expect, it } from "vitest";
// The example of README.md ("The playground without a browser"), kept runnable here.
import { Simulation } from "../index.js";

it("README example: elect, replicate, crash the leader, re-elect, replay", () => {
  const sim = new Simulation({ seed: 42, nodes: 5 });
  sim.runUntil(() => sim.leader() !== undefined, 10_000);
  const first = sim.leader()!;
  console.log(`n${first.id} leads term ${first.term()} at t=${sim.now} ms`);

  sim.act({ kind: "request" }); // a client write, proposed at the leader
  sim.advanceTo(sim.now + 1_000); // replicated and committed on every node
  console.log(
    sim
      .nodes()
      .map((n) => `n${n.id}: ${n.appliedCommands.join(",")}`)
      .join("\n"),
  );

  sim.act({ kind: "crash", node: first.id });
  sim.runUntil(() => sim.leader() !== undefined, 10_000);
  console.log(`n${sim.leader()!.id} leads term ${sim.leader()!.term()}`); // a higher term

  // The same seed and the recorded actions replay the same history.
  const replay = new Simulation({ seed: 42, nodes: 5, script: sim.script });
  replay.advanceTo(sim.now);
  console.log(replay.fingerprint() === sim.fingerprint()); // true

  expect(sim.leader()!.term()).toBeGreaterThan(first.term());
  expect(
    sim
      .nodes()
      .filter((n) => n.up)
      .every((n) => n.appliedCommands.includes("req-1")),
  ).toBe(true);
  expect(replay.fingerprint()).toBe(sim.fingerprint());
});
