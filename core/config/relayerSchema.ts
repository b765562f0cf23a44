import { z } from "zod";

/**
 * Optional per issuer: after each publish, submit the attestation to a
 * SolvencyOracle contract when the ratio or flags changed, when the copy
 * on-chain would expire before it can next be replaced, or when the heartbeat
 * elapsed. The relayer's private key is a Worker secret named by `keySecret`.
 */
export const relayerSchema = z.strictObject({
  chainId: z.number().int().positive(),
  oracle: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address (40 hex digits)"),
  /** Name of the Worker secret holding the relayer's 0x private key (never the key itself). */
  keySecret: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must be an UPPER_SNAKE_CASE secret name"),
  /** The ReserveFeed (AggregatorV3) reading this oracle for the issuer, if one is deployed: shown to readers, never called. */
  feed: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address (40 hex digits)")
    .optional(),
  /**
   * Relay even without a change once the on-chain attestation is this old.
   * Optional: without it the copy is still replaced before it expires.
   */
  heartbeatSeconds: z
    .number()
    .int()
    .positive()
    .max(30 * 86400)
    .optional(),
  /** A ratio move of at least this many bps counts as a change. */
  ratioChangeBps: z.number().int().min(0).max(1_000_000).default(1),
  /** Seconds between publishes: the cron interval in wrangler.toml (`* * * * *` is 60). */
  tickSeconds: z.number().int().positive().max(86400).default(60),
  /**
   * Seconds a relay may take from the attestation's observation to its
   * inclusion on-chain (queue delay, a retry, a block or two). With
   * tickSeconds it makes the expiry margin; a slower measured relay widens it.
   */
  relaySeconds: z.number().int().positive().max(86400).default(60),
});

export type RelayerConfig = z.output<typeof relayerSchema>;
