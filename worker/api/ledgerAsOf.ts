/**
 * The `asOf` of an upload (SPEC §4 liabilities.ledger): when the balances were
 * true, unix seconds, from the `asOf` query parameter of the single-request
 * upload and of the multi-part create; the upload's creation time when absent.
 */
import type { Context } from "hono";
import { isoSeconds } from "../../core/time.js";
import { insertLedger, type NewerLedger } from "../ledger/ledgerStore.js";
import type { LedgerFormat } from "../ledger/parseLedger.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/** A time for people: unix seconds and its UTC date. */
export function describeTime(seconds: number): string {
  return `${seconds} (${isoSeconds(seconds)})`;
}

/**
 * The upload's asOf: the query parameter, or `now`. 400 when it is not unix
 * seconds, 409 when it lies after the upload itself (SPEC §4: never later than
 * the upload). No clock skew is allowed, unlike custodian statements: a ledger
 * dated ahead of the publisher's clock could be attested by a tick observing
 * before its asOf, which every verifier would then refuse.
 */
export function uploadAsOf(c: Context<AppEnv>, now: number): number {
  const raw = c.req.query("asOf");
  if (raw === undefined) return now;
  if (!/^(0|[1-9][0-9]{0,11})$/.test(raw)) {
    throw new ApiError(400, "INVALID_PARAMETER", `asOf must be unix seconds (a non-negative integer, no sign or exponent), got "${raw.slice(0, 40)}"`, {
      field: "asOf",
    });
  }
  const asOf = Number(raw);
  if (asOf > now) {
    throw new ApiError(
      409,
      "CONFLICT",
      `asOf ${describeTime(asOf)} is in the future: the publisher's clock says ${describeTime(now)}, and a ledger cannot be true later than its upload; give the time the balances were true`,
      { field: "asOf", asOf, now },
    );
  }
  return asOf;
}

/** The 409 of an upload whose asOf is not newer than a ledger of the issuer that is complete or still on its way. */
export function notNewer(asOf: number, newer: NewerLedger): ApiError {
  const what =
    newer.status === "complete"
      ? `the issuer's current ledger ${newer.ledgerId} has asOf ${describeTime(newer.asOf)}`
      : `ledger ${newer.ledgerId}, still ${newer.status}, has asOf ${describeTime(newer.asOf)} (abandon it with DELETE if it should not count)`;
  return new ApiError(409, "CONFLICT", `asOf ${describeTime(asOf)} is not newer than ${what}: an upload must be newer than every ledger before it`, {
    field: "asOf",
    asOf,
    newerLedger: { ledgerId: newer.ledgerId, status: newer.status, asOf: newer.asOf },
  });
}

/** Inserts the upload's ledger row for the request's asOf, or throws the 409 naming both times. */
export async function insertVersionedLedger(
  c: Context<AppEnv>,
  ledger: { ledgerId: string; issuerId: string; format: LedgerFormat; assets: readonly string[] },
): Promise<number> {
  const asOf = uploadAsOf(c, Math.floor(Date.now() / 1000));
  const newer = await insertLedger(c.env.DB, { ...ledger, asOf });
  if (newer !== null) throw notNewer(asOf, newer);
  return asOf;
}
