import type { Address } from "viem";
import { parseAddress } from "../../core/address.js";
import type { KeyEntry, KeysDocument } from "../../core/keysDocument.js";

/** The address was the signing key once and has been rotated out; it never comes back. */
export class RetiredKeyError extends Error {
  override readonly name = "RetiredKeyError";
  constructor(readonly address: Address) {
    super(`signing key ${address} was rotated out and cannot be reopened; configure a new key`);
  }
}

/** The open key started at or after `now`, so it cannot be closed at `now` (SPEC §7 end is exclusive). */
export class RotationTooEarlyError extends Error {
  override readonly name = "RotationTooEarlyError";
  constructor(
    readonly address: Address,
    readonly now: number,
  ) {
    super(`cannot open signing key ${address} at ${now}: the open key started at or after that time`);
  }
}

interface KeyRow {
  address: string;
  valid_from: number;
  valid_until: number | null;
}

const SELECT_KEYS = "SELECT address, valid_from, valid_until FROM signing_keys ORDER BY position";

function toDocument(rows: KeyRow[]): KeysDocument {
  return {
    keys: rows.map(
      (r): KeyEntry => ({ address: r.address as Address, validFrom: r.valid_from, validUntil: r.valid_until }),
    ),
  };
}

/** SPEC §7 keys document, oldest key first. Empty `keys` before the first key is registered. */
export async function keysDocument(db: D1Database): Promise<KeysDocument> {
  const { results } = await db.prepare(SELECT_KEYS).all<KeyRow>();
  return toDocument(results);
}

/**
 * Makes `address` the open signing key from `now` (unix seconds) and returns
 * the resulting document. Open already: no change. No keys: it opens at `now`.
 * Another key open: that one closes at `now` and this one opens at `now`
 * (automatic rotation when the SIGNING_KEY secret changes; history is kept so
 * old attestations still verify).
 *
 * One D1 batch (a transaction) whose statements are each conditional, so
 * concurrent calls converge: the same address twice inserts once; an isolate
 * still holding a retired key changes nothing and gets RetiredKeyError.
 */
export async function ensureSigningKey(db: D1Database, address: string, now: number): Promise<KeysDocument> {
  const addr = parseAddress(address, "address");
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError(`now ${now} is not a unix time`);
  const [, , selected] = await db.batch<KeyRow>([
    // Close the open key only when `addr` is new and the close leaves a non-empty interval.
    db
      .prepare(
        `UPDATE signing_keys SET valid_until = ?2
         WHERE valid_until IS NULL AND address != ?1 AND valid_from < ?2
           AND NOT EXISTS (SELECT 1 FROM signing_keys WHERE address = ?1)`,
      )
      .bind(addr, now),
    // Open `addr` only when it is new and no key is left open.
    db
      .prepare(
        `INSERT INTO signing_keys (address, valid_from, valid_until, position)
         SELECT ?1, ?2, NULL, (SELECT COALESCE(MAX(position), 0) + 1 FROM signing_keys)
         WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE address = ?1)
           AND NOT EXISTS (SELECT 1 FROM signing_keys WHERE valid_until IS NULL)`,
      )
      .bind(addr, now),
    db.prepare(SELECT_KEYS),
  ]);
  const doc = toDocument(selected?.results ?? []);
  const entry = doc.keys.find((k) => k.address === addr);
  if (entry === undefined) throw new RotationTooEarlyError(addr, now);
  if (entry.validUntil !== null) throw new RetiredKeyError(addr);
  return doc;
}
