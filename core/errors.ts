/**
 * Every rejection in Solvent carries a machine-readable code, the record it is
 * about (a field name, a row number, a JSON path) and a sentence for people.
 */
export type SolventErrorCode =
  | "INVALID_NUMBER"
  | "OUT_OF_RANGE"
  | "INVALID_BYTES"
  | "INVALID_ARGUMENT"
  | "DUPLICATE_USER"
  | "SUM_OVERFLOW"
  | "INVALID_PROOF"
  | "INVALID_SIGNATURE"
  | "INVALID_DOCUMENT"
  | "INVALID_CONFIG";

export class SolventError extends Error {
  override readonly name = "SolventError";
  constructor(
    readonly code: SolventErrorCode,
    /** What the error is about: a field, `row 12`, `items[3].amount`. */
    readonly record: string,
    readonly reason: string,
  ) {
    super(`${record}: ${reason}`);
  }

  toJSON(): { code: SolventErrorCode; record: string; message: string } {
    return { code: this.code, record: this.record, message: this.message };
  }
}

export function fail(code: SolventErrorCode, record: string, reason: string): never {
  throw new SolventError(code, record, reason);
}

/**
 * A value taken from input as it may appear in a message: at most `max`
 * characters, and when longer, how long it was (never the whole of it).
 */
export function echo(value: string, max = 80): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}
