/**
 * The mint limit of docs/onchain.md, re-computed from a feed answer (reservesUsd
 * at 8 decimals, as GET /feed and ReserveFeed serve it) without any contract
 * code: what an integrator would write to predict SolventMintGuard.
 */
export interface MintLimitParams {
  decimals: number;
  pegUsd18: bigint;
  marginBps: bigint;
}

/** floor(answer * 10^(10 + decimals) * (10000 + marginBps) / (pegUsd18 * 10000)). */
export function mintLimitFromFeed(answer: bigint, { decimals, pegUsd18, marginBps }: MintLimitParams): bigint {
  return (answer * 10n ** BigInt(10 + decimals) * (10_000n + marginBps)) / (pegUsd18 * 10_000n);
}
