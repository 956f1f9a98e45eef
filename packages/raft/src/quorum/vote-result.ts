/** VoteResult is the outcome of counting votes (or acknowledgements) against a configuration. */
export const VoteResult = {
  /** Not decided yet: the missing votes could still swing it. */
  Pending: 1,
  /** A quorum cannot be reached any more. */
  Lost: 2,
  /** A quorum voted yes. */
  Won: 3,
} as const;
/** VoteResult is the numeric outcome of a tally. */
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/** AckedIndexer returns the highest index acknowledged by a voter, or undefined if unknown. */
export type AckedIndexer = (id: bigint) => number | undefined;
/** VoteLookup returns a voter's vote, or undefined if it has not voted. */
export type VoteLookup = (id: bigint) => boolean | undefined;
