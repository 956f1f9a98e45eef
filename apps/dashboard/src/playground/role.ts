import { StateType } from "@etcd-ts/raft";

/** Role is what the playground shows for a node: its raft state, or "down" while it is crashed. */
export type Role = "follower" | "pre-candidate" | "candidate" | "leader" | "down";

/** roleOf maps raft's numeric state to a {@link Role}. */
export function roleOf(state: StateType): Role {
  switch (state) {
    case StateType.Follower:
      return "follower";
    case StateType.PreCandidate:
      return "pre-candidate";
    case StateType.Candidate:
      return "candidate";
    case StateType.Leader:
      return "leader";
  }
}
