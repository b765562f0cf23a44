import { parseAddress } from "../../core/address.js";
import type { SolventConfig } from "../../core/config/schema.js";
import type { KeyEntry, KeysDocument } from "../../core/keysDocument.js";
import { keysDocument } from "../storage/signingKeys.js";

/** A receipts key as the configuration names it, with where it is named. */
interface ConfiguredReceiptKey extends KeyEntry {
  issuer: string;
  where: string;
}

/** Every issuer's receipts keys from the configuration (SPEC §7 role "receipts"), in configuration order. */
export function receiptKeyEntries(config: SolventConfig): ConfiguredReceiptKey[] {
  return config.issuers.flatMap((issuer) =>
    (issuer.liabilities.ledger?.receiptKeys ?? []).map((k, i): ConfiguredReceiptKey => {
      const where = `issuers.${issuer.id}.liabilities.ledger.receiptKeys[${i}]`;
      return {
        address: parseAddress(k.address, where),
        validFrom: k.validFrom,
        validUntil: k.validUntil,
        role: "receipts",
        issuer: issuer.id,
        where,
      };
    }),
  );
}

interface ReceiptKeyRow {
  issuer_id: string;
  address: string;
  valid_from: number;
  valid_until: number | null;
}

const SELECT_RECEIPT_KEYS = "SELECT issuer_id, address, valid_from, valid_until FROM receipt_keys ORDER BY position";

const toEntry = (r: ReceiptKeyRow): KeyEntry => ({
  address: r.address as KeyEntry["address"],
  validFrom: r.valid_from,
  validUntil: r.valid_until,
  role: "receipts",
  issuer: r.issuer_id,
});

const keyOf = (issuer: string, address: string) => `${issuer} ${address}`;

/**
 * Brings the stored receipts keys in line with the configuration and returns
 * every stored one, oldest first. SPEC §7 never deletes a key, so the stored
 * rows are the truth the configuration can only add to:
 * - a configured key not stored yet is recorded with its window;
 * - a configured `validUntil` closes a stored open window (once);
 * - a stored open key the configuration no longer names is closed at `now`
 *   (receipts signed before stay verifiable; later ones do not), or one second
 *   after its start when it had not started yet (a window is never empty);
 * - a configuration that moves a published window, or names an address that
 *   signs attestations as a receipts key, changes nothing and is logged naming
 *   the entry: one key never holds two roles.
 * Reads first and writes only when something differs, so the GET routes that
 * call it stay read-only in the steady state; concurrent calls converge
 * because every write is conditional.
 */
export async function syncReceiptKeys(
  db: D1Database,
  config: SolventConfig,
  now: number,
  attestationKeys: readonly KeyEntry[],
): Promise<KeyEntry[]> {
  const configured = receiptKeyEntries(config);
  const { results: stored } = await db.prepare(SELECT_RECEIPT_KEYS).all<ReceiptKeyRow>();
  const byKey = new Map(stored.map((r) => [keyOf(r.issuer_id, r.address), r]));
  const signing = new Set(attestationKeys.map((k) => k.address.toLowerCase()));
  const writes: D1PreparedStatement[] = [];
  const named = new Set<string>();
  for (const k of configured) {
    if (signing.has(k.address)) {
      console.error(
        `${k.where}: ${k.address} signs attestations, so it cannot also be a receipts key; it is not published as one (give receipts their own key)`,
      );
      continue;
    }
    const id = keyOf(k.issuer, k.address);
    named.add(id);
    const row = byKey.get(id);
    if (row === undefined) {
      writes.push(
        db
          .prepare(
            `INSERT INTO receipt_keys (issuer_id, address, valid_from, valid_until, position)
             SELECT ?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(position), 0) + 1 FROM receipt_keys)
             WHERE NOT EXISTS (SELECT 1 FROM receipt_keys WHERE issuer_id = ?1 AND address = ?2)`,
          )
          .bind(k.issuer, k.address, k.validFrom, k.validUntil),
      );
    } else if (row.valid_until === null && k.validUntil !== null && row.valid_from === k.validFrom) {
      writes.push(
        db
          .prepare(
            "UPDATE receipt_keys SET valid_until = ?3 WHERE issuer_id = ?1 AND address = ?2 AND valid_until IS NULL",
          )
          .bind(k.issuer, k.address, k.validUntil),
      );
    } else if (row.valid_from !== k.validFrom || (row.valid_until !== null && row.valid_until !== k.validUntil)) {
      console.warn(
        `${k.where}: ${k.address} was published valid from ${row.valid_from} until ${row.valid_until ?? "open"}; ` +
          `a published window never moves (SPEC §7), so the configuration's ${k.validFrom}..${k.validUntil ?? "open"} is ignored`,
      );
    }
  }
  for (const r of stored) {
    if (r.valid_until !== null || named.has(keyOf(r.issuer_id, r.address))) continue;
    writes.push(
      db
        .prepare(
          "UPDATE receipt_keys SET valid_until = MAX(?3, valid_from + 1) WHERE issuer_id = ?1 AND address = ?2 AND valid_until IS NULL",
        )
        .bind(r.issuer_id, r.address, now),
    );
  }
  if (writes.length === 0) return stored.map(toEntry);
  const results = await db.batch<ReceiptKeyRow>([...writes, db.prepare(SELECT_RECEIPT_KEYS)]);
  return (results.at(-1)?.results ?? []).map(toEntry);
}

/** The published keys document (`/.well-known/solvent/keys.json`): attestation keys (D1, oldest first), then receipts keys (D1, oldest first). */
export async function publishedKeysDocument(
  db: D1Database,
  config: SolventConfig,
  now = Math.floor(Date.now() / 1000),
): Promise<KeysDocument> {
  const attestations = await keysDocument(db);
  const receipts = await syncReceiptKeys(db, config, now, attestations.keys);
  return { keys: [...attestations.keys, ...receipts] };
}
