/**
 * The refusals of the ledger workflows (ledgerIntake.ts, ledgerLifecycle.ts):
 * a code saying which kind, a sentence for the operator naming the ledger and
 * the reason, and the details an answer carries (ledger id, part, field, row
 * errors). The codes are the API's (worker/api/errors.ts), whose one table
 * gives each its HTTP status; nothing here knows about HTTP.
 */
export type LedgerErrorCode =
  /** No such ledger of this issuer, or not in the state the request needs (a tree of a ledger that is not complete). */
  | "NOT_FOUND"
  /** The ledger's state, its configuration or an earlier upload forbids the request (a part after completion, an asOf not newer …). */
  | "CONFLICT"
  /** A request parameter contradicts what the upload fixed when it was created (units). */
  | "INVALID_PARAMETER"
  /** A part names another body format than the upload it belongs to. */
  | "UNSUPPORTED_MEDIA_TYPE"
  /** The body is larger than the ledger or part limit. */
  | "PAYLOAD_TOO_LARGE"
  /** Rows were refused: nothing was stored. */
  | "LEDGER_INVALID"
  /** What is stored contradicts what was attested; nothing is served from it. */
  | "INTERNAL";

export class LedgerError extends Error {
  override readonly name = "LedgerError";
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
