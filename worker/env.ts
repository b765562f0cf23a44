/** Bindings and secrets of the Worker (wrangler.toml + `wrangler secret put`). */
export interface Env {
  DB: D1Database;
  BUCKET: R2Bucket;
  /**
   * One Durable Object per issuer serialises its publishing. Typed at its one
   * use, publisherFor (worker/publisher/issuerPublisher.ts), so that this file,
   * which every module imports, imports none of them back.
   */
  PUBLISHER: DurableObjectNamespace;
  /** Ledger builds too large for the upload request. */
  LEDGER_QUEUE: Queue<unknown>;
  /** Attestations to put on-chain (issuers with a relayer). */
  RELAY_QUEUE: Queue<unknown>;
  /** Alert deliveries to webhooks. */
  ALERT_QUEUE: Queue<unknown>;
  /** The page's static files (public/). */
  ASSETS: Fetcher;
  /** Workers rate-limit bindings of the public routes, one per route group (worker/api/rateLimit.ts). */
  RATE_LIMIT_INTEGRATION: RateLimit;
  RATE_LIMIT_PROOFS: RateLimit;
  RATE_LIMIT_READS: RateLimit;
  /** "1": the edge cache also stores the answers that move with each publish (latest, lists, feed, keys), for their max-age. */
  EDGE_CACHE_SHORT_ANSWERS?: string;
  /** Secret: 0x-hex secp256k1 key that signs attestations. */
  SIGNING_KEY?: string;
  /** Secret: 0x + at least 64 hex digits; private ledgers (SPEC §11) derive blindings and padding from it at build time. */
  LEDGER_BLINDING_SECRET?: string;
  /** Secret: bearer token for every admin route of every issuer. */
  ADMIN_TOKEN?: string;
  /** Secret: JSON object { issuerId: token } of per-issuer admin tokens. */
  ADMIN_TOKENS?: string;
  /** Optional: the configuration as JSON text, overriding config/solvent.config.json. */
  SOLVENT_CONFIG?: string;
  /** "1" in the local demo: serves /demo/* routes. */
  DEMO_MODE?: string;
  /** Demo only: JSON of three demo users (userId, salt) for /demo/users.json. */
  DEMO_USERS?: string;
  /** Demo only: JSON of the demo contract addresses for /demo/contracts.json. */
  DEMO_CONTRACTS?: string;
  /** Optional: seconds a ledger build may stand still before the cron resumes it (default 600; worker/ledger/sweepLedgers.ts). */
  LEDGER_RESUME_AFTER_SECONDS?: string;
  /** Any other string secret, e.g. RPC keys named in rpcUrls as ${NAME}. */
  [secret: string]: unknown;
}
