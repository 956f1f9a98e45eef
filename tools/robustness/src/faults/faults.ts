import type { Member, RobustnessCluster } from "../cluster/cluster.js";
import { errorText } from "../cluster/etcd-client.js";
import type { LinkFault } from "../cluster/fault-proxy.js";
import type { Random } from "../random.js";
import { sleep } from "../sleep.js";

/** FaultKind names the one fault a run injects. */
export type FaultKind =
  | "kill-leader"
  | "kill-follower"
  | "sigstop-leader"
  | "sigstop-follower"
  | "partition-leader"
  | "blackhole-peer"
  | "delay-peers"
  | "drop-peers"
  | "one-way-cut-leader"
  | "member-replace"
  | "defrag"
  | "compaction-storm";

/** faultKinds lists every fault kind, in the order CI cycles through them. */
export const faultKinds: readonly FaultKind[] = [
  "kill-leader",
  "kill-follower",
  "sigstop-leader",
  "sigstop-follower",
  "partition-leader",
  "blackhole-peer",
  "delay-peers",
  "drop-peers",
  "one-way-cut-leader",
  "member-replace",
  "defrag",
  "compaction-storm",
];

/** FaultOutcome says what was done and when the fault healed (run clock, ms). */
export interface FaultOutcome {
  readonly kind: FaultKind;
  readonly description: string;
  /** injected is false when the fault could not be applied (e.g. no leader at that moment). */
  readonly injected: boolean;
  /** healedAt is when the fault ended (process listening again, proxies healed, storm over). */
  readonly healedAt: number;
  /** compacted is true when the fault compacted the keyspace. */
  readonly compacted: boolean;
}

/** FaultContext is what a fault needs. */
export interface FaultContext {
  readonly cluster: RobustnessCluster;
  readonly rng: Random;
  readonly now: () => number;
  readonly electionTimeoutMs: number;
}

/**
 * injectFault applies one fault and heals it (each lasts long enough to matter: process stops and
 * partitions outlast the election timeout). Resolves when the fault has healed.
 */
export async function injectFault(kind: FaultKind, ctx: FaultContext): Promise<FaultOutcome> {
  const { cluster, rng, now, electionTimeoutMs } = ctx;
  const outcome = (description: string, injected = true, compacted = false): FaultOutcome => ({
    kind,
    description,
    injected,
    healedAt: now(),
    compacted,
  });
  const pickLeader = async () => cluster.leader(5000);
  const pickFollower = async () => {
    const leader = await pickLeader();
    const followers = cluster.running().filter((m) => m !== leader);
    return followers.length === 0 ? undefined : rng.pick(followers);
  };
  const withLinks = async (victim: Member, fault: (m: Member) => LinkFault | undefined, ms: number) => {
    for (const m of cluster.members) {
      const f = fault(m);
      if (f !== undefined) m.proxy.inject(f);
    }
    await sleep(ms);
    for (const m of cluster.members) m.proxy.heal();
    return victim;
  };
  const outage = 2 * electionTimeoutMs;
  switch (kind) {
    case "kill-leader":
    case "kill-follower": {
      const victim = kind === "kill-leader" ? await pickLeader() : await pickFollower();
      if (victim === undefined) return outcome("no victim found", false);
      await cluster.kill(victim, "SIGKILL");
      await sleep(rng.between(200, electionTimeoutMs));
      await cluster.restart(victim);
      return outcome(`SIGKILL ${victim.name}, restarted`);
    }
    case "sigstop-leader":
    case "sigstop-follower": {
      const victim = kind === "sigstop-leader" ? await pickLeader() : await pickFollower();
      if (victim === undefined) return outcome("no victim found", false);
      cluster.pause(victim);
      await sleep(outage);
      cluster.resume(victim);
      return outcome(`SIGSTOP ${victim.name} for ${outage} ms`);
    }
    case "partition-leader": {
      const victim = await pickLeader();
      if (victim === undefined) return outcome("no leader found", false);
      const alone = new Set([victim.name]);
      await withLinks(
        victim,
        (m) => (m === victim ? { kind: "blackhole" } : { kind: "blackhole", from: alone }),
        outage,
      );
      return outcome(`partitioned ${victim.name} (leader) for ${outage} ms`);
    }
    case "blackhole-peer": {
      const victim = rng.pick(cluster.running());
      const alone = new Set([victim.name]);
      await withLinks(
        victim,
        (m) => (m === victim ? { kind: "blackhole" } : { kind: "blackhole", from: alone }),
        electionTimeoutMs,
      );
      return outcome(`blackholed ${victim.name}'s peer traffic for ${electionTimeoutMs} ms`);
    }
    case "delay-peers": {
      const victim = rng.pick(cluster.running());
      await withLinks(victim, () => ({ kind: "delay", meanMs: 75, jitterMs: 50 }), outage);
      return outcome(`delayed every peer link 75+-50 ms for ${outage} ms`);
    }
    case "drop-peers": {
      const victim = rng.pick(cluster.running());
      await withLinks(victim, (m) => (m === victim ? { kind: "drop", rate: 0.5 } : undefined), outage);
      return outcome(`dropped 50% of ${victim.name}'s peer connections for ${outage} ms`);
    }
    case "one-way-cut-leader": {
      const victim = await pickLeader();
      if (victim === undefined) return outcome("no leader found", false);
      await withLinks(victim, (m) => (m === victim ? { kind: "inbound" } : undefined), outage);
      return outcome(`cut everything sent to ${victim.name} (leader) for ${outage} ms`);
    }
    case "member-replace": {
      const victim = rng.pick(cluster.running());
      await cluster.replace(victim);
      return outcome(`replaced ${victim.name} with an empty member`);
    }
    case "defrag": {
      for (const m of cluster.running()) {
        try {
          await m.client.maintenance.defragment({}, { timeoutMs: 10_000 });
        } catch (err) {
          return outcome(`defragment of ${m.name} failed: ${errorText(err)}`, false);
        }
      }
      return outcome("defragmented every member");
    }
    case "compaction-storm": {
      const member = rng.pick(cluster.running());
      const stormMs = 2 * outage;
      const until = now() + stormMs;
      let compactions = 0;
      while (now() < until) {
        try {
          const res = await member.client.kv.range({ key: new Uint8Array([0]) }, { timeoutMs: 3000 });
          const revision = res.header?.revision ?? 0n;
          const target = revision - BigInt(rng.int(5));
          if (target > 1n) {
            await member.client.kv.compact({ revision: target }, { timeoutMs: 3000 });
            compactions++;
          }
        } catch {
          // "required revision has been compacted" and timeouts are fine in a storm
        }
        await sleep(rng.between(20, 80));
      }
      return outcome(
        `${compactions} compactions through ${member.name} in ${stormMs} ms`,
        compactions > 0,
        true,
      );
    }
  }
}
