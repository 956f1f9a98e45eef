import { describe, expect, it } from "vitest";
import { Simulation } from "./simulation.js";

/** SIM_SEEDS widens the seed sweeps (default 20 per cluster size). */
const seeds = Number(process.env.SIM_SEEDS ?? 20);
const seedList = Array.from({ length: seeds }, (_, i) => i + 1);

function electLeader(sim: Simulation): bigint {
  const ok = sim.runUntil(() => sim.leader() !== undefined, 10_000);
  if (!ok) throw new Error(`seed ${sim.seed}: no leader within 10 s`);
  return sim.leader()!.id;
}

/** settle runs until every running node has the same commit index as the leader, and it applied all. */
function settle(sim: Simulation, limitMs = 10_000): void {
  const ok = sim.runUntil(() => {
    const leader = sim.leader();
    if (leader === undefined) return false;
    const up = sim.nodes().filter((n) => n.up);
    const last = leader.storage.lastIndex();
    return up.every(
      (n) => n.storage.lastIndex() === last && n.commit() === last && n.raw.raft.raftLog.applied === last,
    );
  }, limitMs);
  if (!ok) throw new Error(`seed ${sim.seed}: cluster did not settle`);
}

describe("playground simulation", () => {
  it("is deterministic: the same seed and script give the same history", () => {
    const run = (seed: number) => {
      const sim = new Simulation({
        seed,
        nodes: 5,
        script: [
          { at: 500, action: { kind: "load", on: true } },
          { at: 3_000, action: { kind: "crash", node: 2n } },
          {
            at: 4_000,
            action: {
              kind: "partition",
              groups: [
                [1n, 3n],
                [4n, 5n],
              ],
            },
          },
          { at: 6_000, action: { kind: "heal" } },
          { at: 6_500, action: { kind: "restart", node: 2n } },
        ],
      });
      sim.advanceTo(10_000);
      return sim;
    };
    const a = run(42);
    const b = run(42);
    expect(a.history.length).toBeGreaterThan(10);
    expect(a.fingerprint()).toBe(b.fingerprint());
    expect(run(43).fingerprint()).not.toBe(a.fingerprint());
  });

  it("replays a live session from its recorded script", () => {
    const live = new Simulation({ seed: 7, nodes: 3 });
    electLeader(live);
    live.act({ kind: "request" });
    live.advanceTo(live.now + 250);
    live.act({ kind: "crash", node: live.leader()!.id });
    live.stepInstant();
    live.act({ kind: "request", node: 1n });
    live.advanceTo(live.now + 3_000);
    live.act({ kind: "load", on: true });
    live.advanceTo(live.now + 2_000);

    const replay = new Simulation({ seed: 7, nodes: 3, script: live.script });
    replay.advanceTo(live.now);
    expect(replay.script).toEqual(live.script);
    expect(replay.fingerprint()).toBe(live.fingerprint());
  });

  it.each([3, 5])("elects exactly one leader that every node follows (%i nodes)", (nodes) => {
    for (const seed of seedList) {
      const sim = new Simulation({ seed, nodes });
      const leader = electLeader(sim);
      sim.advanceTo(sim.now + 1_000); // heartbeats reach everyone
      const leaders = sim.nodes().filter((n) => n.role() === "leader");
      expect(leaders.map((n) => n.id)).toEqual([leader]);
      for (const n of sim.nodes()) expect(n.raw.raft.lead).toBe(leader);
      expect(sim.node(leader).term()).toBeGreaterThanOrEqual(1);
    }
  });

  it.each([3, 5])("replicates client requests to every node in the same order (%i nodes)", (nodes) => {
    const sim = new Simulation({ seed: 11, nodes });
    electLeader(sim);
    for (let i = 0; i < 5; i++) {
      sim.act({ kind: "request" });
      sim.advanceTo(sim.now + 50);
    }
    sim.act({ kind: "request", node: sim.nodeIds.find((id) => id !== sim.leader()!.id)! }); // forwarded
    sim.advanceTo(sim.now + 500);
    settle(sim);
    const expected = sim.leader()!.appliedCommands;
    expect(expected).toHaveLength(6);
    for (const n of sim.nodes()) expect(n.appliedCommands).toEqual(expected);
  });

  it.each([3, 5])("a crashed leader is replaced by a new leader with a higher term (%i nodes)", (nodes) => {
    for (const seed of seedList) {
      const sim = new Simulation({ seed, nodes });
      const old = sim.node(electLeader(sim));
      const oldTerm = old.term();
      sim.act({ kind: "crash", node: old.id });
      const ok = sim.runUntil(() => sim.leader() !== undefined, 10_000);
      expect(ok, `seed ${seed}: no new leader`).toBe(true);
      const next = sim.leader()!;
      expect(next.id).not.toBe(old.id);
      expect(next.term()).toBeGreaterThan(oldTerm);
      // The old leader comes back as a follower of the new one and catches up.
      sim.act({ kind: "restart", node: old.id });
      sim.act({ kind: "request" });
      settle(sim);
      expect(old.role()).toBe("follower");
      expect(old.appliedCommands).toEqual(sim.leader()!.appliedCommands);
    }
  });

  it.each([3, 5])("a crashed follower restarts from its log and catches up (%i nodes)", (nodes) => {
    for (const seed of seedList) {
      const sim = new Simulation({ seed, nodes });
      const leaderId = electLeader(sim);
      sim.act({ kind: "request" });
      settle(sim);
      const follower = sim.node(sim.nodeIds.find((id) => id !== leaderId)!);
      const persisted = follower.log();
      const commitBefore = follower.commit();
      sim.act({ kind: "crash", node: follower.id });
      for (let i = 0; i < 3; i++) {
        sim.act({ kind: "request" });
        sim.advanceTo(sim.now + 100);
      }
      sim.advanceTo(sim.now + 1_000);
      // The rest commit without it; the crashed node's disk keeps what it had and learns nothing new.
      expect(sim.leader()!.commit(), `seed ${seed}`).toBeGreaterThan(commitBefore);
      expect(follower.commit(), `seed ${seed}`).toBe(commitBefore);
      expect(follower.log(), `seed ${seed}`).toEqual(persisted);
      sim.act({ kind: "restart", node: follower.id });
      expect(follower.log(), `seed ${seed}: restart keeps the log`).toEqual(persisted);
      settle(sim);
      const applied = sim.leader()!.appliedCommands;
      expect(applied, `seed ${seed}`).toHaveLength(4);
      expect(follower.role()).toBe("follower");
      expect(follower.appliedCommands, `seed ${seed}`).toEqual(applied);
    }
  });

  it("a minority partition makes no progress; the majority elects a leader and commits", () => {
    for (const seed of seedList) {
      const sim = new Simulation({ seed, nodes: 5 });
      const oldLeader = sim.node(electLeader(sim));
      sim.act({ kind: "request" });
      settle(sim);
      const before = oldLeader.commit();
      const oldTerm = oldLeader.term();
      const minority = [oldLeader.id, sim.nodeIds.find((id) => id !== oldLeader.id)!];
      const majority = sim.nodeIds.filter((id) => !minority.includes(id));
      sim.act({ kind: "partition", groups: [minority, majority] });
      sim.act({ kind: "request", node: oldLeader.id }); // accepted by the stale leader, never committed
      const ok = sim.runUntil(() => {
        const l = sim.leader();
        return l !== undefined && majority.includes(l.id);
      }, 10_000);
      expect(ok, `seed ${seed}: the majority elected no leader`).toBe(true);
      const newLeader = sim.leader()!;
      expect(newLeader.term(), `seed ${seed}`).toBeGreaterThan(oldTerm);
      expect(oldLeader.log().at(-1)!.index, "the stale leader appended the request").toBeGreaterThan(before);
      sim.act({ kind: "request" });
      sim.advanceTo(sim.now + 3_000);
      for (const id of minority) expect(sim.node(id).commit(), `seed ${seed}`).toBe(before);
      expect(newLeader.commit()).toBeGreaterThan(before);
      // Healing: the minority learns the new term, drops its uncommitted entry and converges.
      sim.act({ kind: "heal" });
      settle(sim);
      const applied = sim.leader()!.appliedCommands;
      expect(applied).not.toContain(`req-2`);
      for (const n of sim.nodes()) expect(n.appliedCommands, `seed ${seed}`).toEqual(applied);
    }
  });
});
