import { parseAddress } from "../../core/address.js";
import type { SolventConfig } from "../../core/config/schema.js";
import type { KeyEntry, KeysDocument } from "../../core/keysDocument.js";
import { keysDocument } from "../storage/signingKeys.js";

/**
 * Every issuer's receipts keys from the configuration (SPEC §7 role
 * "receipts"), in configuration order. They are published beside the
 * publisher's own attestation keys and sign only their issuer's receipts.
 */
export function receiptKeyEntries(config: SolventConfig): KeyEntry[] {
  return config.issuers.flatMap((issuer) =>
    (issuer.liabilities.ledger?.receiptKeys ?? []).map(
      (k): KeyEntry => ({
        address: parseAddress(k.address, `issuers.${issuer.id}.liabilities.ledger.receiptKeys`),
        validFrom: k.validFrom,
        validUntil: k.validUntil,
        role: "receipts",
        issuer: issuer.id,
      }),
    ),
  );
}

/** The published keys document (`/.well-known/solvent/keys.json`): attestation keys (D1, oldest first), then receipts keys. */
export async function publishedKeysDocument(db: D1Database, config: SolventConfig): Promise<KeysDocument> {
  const attestations = await keysDocument(db);
  return { keys: [...attestations.keys, ...receiptKeyEntries(config)] };
}
