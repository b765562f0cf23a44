/** The append-only log of relay attempts (migrations/0003_relays.sql). */
export interface RelayAttempt {
  issuerId: string;
  sequence: bigint;
  chainId: number;
  oracle: string;
  attempt: number;
  status: "submitted" | "skipped" | "failed";
  txHash: string | null;
  gasUsed: bigint | null;
  reason: string;
  at: number;
}

interface Row {
  issuer_id: string;
  sequence: number;
  chain_id: number;
  oracle: string;
  attempt: number;
  status: RelayAttempt["status"];
  tx_hash: string | null;
  gas_used: string | null;
  reason: string;
  at: number;
}

export async function recordRelayAttempt(db: D1Database, a: RelayAttempt): Promise<void> {
  await db
    .prepare(
      "INSERT INTO relay_attempts (issuer_id, sequence, chain_id, oracle, attempt, status, tx_hash, gas_used, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(
      a.issuerId,
      Number(a.sequence),
      a.chainId,
      a.oracle,
      a.attempt,
      a.status,
      a.txHash,
      a.gasUsed?.toString() ?? null,
      a.reason.slice(0, 2000),
      a.at,
    )
    .run();
}

export async function recentRelayAttempts(db: D1Database, issuerId: string, limit = 20): Promise<RelayAttempt[]> {
  const { results } = await db
    .prepare("SELECT * FROM relay_attempts WHERE issuer_id = ? ORDER BY id DESC LIMIT ?")
    .bind(issuerId, limit)
    .all<Row>();
  return results.map((r) => ({
    issuerId: r.issuer_id,
    sequence: BigInt(r.sequence),
    chainId: r.chain_id,
    oracle: r.oracle,
    attempt: r.attempt,
    status: r.status,
    txHash: r.tx_hash,
    gasUsed: r.gas_used === null ? null : BigInt(r.gas_used),
    reason: r.reason,
    at: r.at,
  }));
}

/**
 * The slowest delay, in seconds, from an attestation's observation to the
 * attempt that put it on-chain, over the issuer's last `limit` submitted
 * relays; null before the first one. It widens the expiry margin when relays
 * run slower than the configured relaySeconds.
 */
export async function slowestRecentRelaySeconds(db: D1Database, issuerId: string, limit = 10): Promise<number | null> {
  const row = await db
    .prepare(
      `SELECT MAX(r.at - a.observed_at) AS slowest
         FROM (SELECT sequence, at FROM relay_attempts WHERE issuer_id = ?1 AND status = 'submitted' ORDER BY id DESC LIMIT ?2) r
         JOIN attestations a ON a.issuer_id = ?1 AND a.sequence = r.sequence`,
    )
    .bind(issuerId, limit)
    .first<{ slowest: number | null }>();
  return row?.slowest ?? null;
}

/** The newest attempt that put an attestation on-chain, if any. */
export async function lastSubmittedRelay(
  db: D1Database,
  issuerId: string,
): Promise<{ sequence: bigint; at: number } | null> {
  const row = await db
    .prepare(
      "SELECT sequence, at FROM relay_attempts WHERE issuer_id = ? AND status = 'submitted' ORDER BY id DESC LIMIT 1",
    )
    .bind(issuerId)
    .first<{ sequence: number; at: number }>();
  return row ? { sequence: BigInt(row.sequence), at: row.at } : null;
}
