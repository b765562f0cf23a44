/**
 * Streaming parse and validation of an uploaded user ledger (SPEC §1 numbers,
 * §2 commitments). The body is decoded line by line; only the current line,
 * one output batch and the duplicate fingerprints are held in memory.
 *
 * Formats (asset columns / keys are the issuer's ledger assets, in order):
 * - CSV, header `userId,salt,<asset…>` or `commitment,<asset…>`; fields may be
 *   double-quoted (no line breaks inside). Row 0 is the header, data rows are 1-based.
 * - NDJSON, one object per line: `{"userId","salt","balances":{asset:amount}}`
 *   or `{"commitment","balances":{…}}`. Row n is line n.
 * Blank lines are skipped (they still count for the numbering).
 *
 * Amounts are whole-unit decimals of each asset's configured decimals
 * (`1500.25` USD of 6 decimals is 1500250000 base units), or base units when
 * the upload says `units: "base"` (core/numbers.ts `parseUploadedAmount`).
 *
 * Valid rows leave as flat records (see `recordBytes`): userId and salt are
 * dropped once the commitment is computed.
 */
import { bytesToHex, hexToBytes, writeUint128 } from "../../core/bytes.js";
import { SolventError } from "../../core/errors.js";
import { HASH_BYTES, parseSalt, SUM_BYTES, userCommitment } from "../../core/liabilities/index.js";
import { type AmountUnits, parseUploadedAmount, UINT128_MAX } from "../../core/numbers.js";

export type LedgerFormat = "csv" | "ndjson";
/** `user`: userId + salt given, the commitment is computed; `commitment`: given directly. */
export type LedgerForm = "user" | "commitment";

export interface LedgerRowError {
  /** 1-based data row (CSV header = 0; NDJSON row = line number). */
  row: number;
  reason: string;
}

/** `count` records of `recordBytes(assets)` bytes each. */
export interface LedgerRowBatch {
  count: number;
  records: Uint8Array;
}

export interface ParseLedgerOptions {
  format: LedgerFormat;
  /** The issuer's ordered ledger assets. */
  assets: readonly string[];
  /** How amounts are written: whole-unit decimals of `decimals`, or base units. */
  units: AmountUnits;
  /** Each asset's decimals, in `assets` order (needed for `units: "decimal"`). */
  decimals?: readonly number[];
  /** Receives valid rows in upload order; awaited (back-pressure). No rows are emitted once an error was seen. */
  onRows?: (batch: LedgerRowBatch) => Promise<void> | void;
  /** Rows per emitted batch (default 4096). */
  batchRows?: number;
  /** Bytes the body may have; beyond it parsing stops with LedgerTooLargeError. */
  maxBytes?: number;
  /**
   * Rows tracked for duplicate userIds / commitments (default 1,000,000, about
   * 24 bytes a row per set). Commitments beyond it are still de-duplicated
   * exactly by the build; userIds beyond it are not checked.
   */
  dedupLimit?: number;
}

export interface ParsedLedger {
  /** Valid rows. */
  rows: number;
  form: LedgerForm | null;
  /** The first `MAX_REPORTED_ERRORS` errors. */
  errors: LedgerRowError[];
  errorCount: number;
  bytes: number;
  /** Per-asset totals of the valid rows (every partial sum of the tree is at most these). */
  totals: bigint[];
  /** Number of the last line read, in this body's row numbering (blank lines count). */
  lastRow: number;
}

export const MAX_REPORTED_ERRORS = 100;
export const MAX_LINE_CHARS = 65_536;

/** A record: uint32be row number || commitment (32) || enc128 balance per asset. */
export function recordBytes(assets: number): number {
  return 4 + HASH_BYTES + SUM_BYTES * assets;
}

export class LedgerTooLargeError extends Error {
  override readonly name = "LedgerTooLargeError";
  constructor(readonly maxBytes: number) {
    super(`the ledger is larger than ${maxBytes} bytes`);
  }
}

/** Thrown for a row; caught per row and listed. */
class RowError extends Error {}

/**
 * Parses and validates a whole ledger body. Never throws for bad content (it
 * is listed in `errors`); throws LedgerTooLargeError past `maxBytes`, and
 * whatever `onRows` throws.
 *
 * @example
 * const parsed = await parseLedger(req.body, { format: "csv", assets: ["USDC"], onRows: (b) => spool.add(b) });
 * if (parsed.errorCount > 0) reject(parsed.errors);
 */
export async function parseLedger(
  body: ReadableStream<Uint8Array>,
  options: ParseLedgerOptions,
): Promise<ParsedLedger> {
  const parser = new LedgerParser(options);
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let pending = "";
  let skipping = false;
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let text: string;
      if (done) {
        text = parser.stopped ? "" : safeDecode(decoder, undefined, parser);
      } else {
        bytes += value.byteLength;
        if (options.maxBytes !== undefined && bytes > options.maxBytes) {
          await reader.cancel().catch(() => {});
          throw new LedgerTooLargeError(options.maxBytes);
        }
        text = parser.stopped ? "" : safeDecode(decoder, value, parser);
      }
      if (parser.stopped) {
        // Not UTF-8: the rest is counted against maxBytes but not read (it could only add confusing errors).
        if (done) break;
        continue;
      }
      let start = 0;
      for (;;) {
        const nl = text.indexOf("\n", start);
        if (nl < 0) break;
        const piece = text.slice(start, nl);
        start = nl + 1;
        if (skipping) {
          skipping = false;
          pending = "";
          continue;
        }
        // The same limit whether a long line arrives in one chunk or across many.
        if (pending.length + piece.length > MAX_LINE_CHARS) parser.tooLong(pending + piece);
        else await parser.line(pending + piece);
        pending = "";
      }
      if (!skipping) pending += text.slice(start);
      if (pending.length > MAX_LINE_CHARS) {
        parser.tooLong(pending);
        pending = "";
        skipping = true;
      }
      if (done) break;
    }
    if (!skipping && !parser.stopped && pending !== "") await parser.line(pending);
  } finally {
    reader.releaseLock();
  }
  return parser.finish(bytes);
}

function safeDecode(decoder: TextDecoder, chunk: Uint8Array | undefined, parser: LedgerParser): string {
  try {
    return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
  } catch {
    // Name the line of the first bad byte: count the line breaks before it in a lenient decode.
    const lenient =
      chunk === undefined ? "" : new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(chunk);
    const bad = lenient.indexOf("\ufffd");
    parser.invalidUtf8(bad < 0 ? 0 : lenient.slice(0, bad).split("\n").length - 1);
    return "";
  }
}

class LedgerParser {
  private readonly assets: readonly string[];
  private readonly k: number;
  private readonly recordSize: number;
  private readonly batchRows: number;
  private readonly onRows: ParseLedgerOptions["onRows"];
  private readonly userIds: FingerprintSet;
  private readonly commitments: FingerprintSet;
  private line0 = -1; // physical line index of the current line (0-based)
  private headerSeen = false;
  private form: LedgerForm | null = null;
  private rows = 0;
  private errors: LedgerRowError[] = [];
  private errorCount = 0;
  private utf8Failed = false;
  /** NDJSON whose first line is a CSV header: reported once, the rest is not read. */
  private csvAsNdjson = false;
  private totals: bigint[];
  private batch: Uint8Array;
  private batchCount = 0;

  constructor(options: ParseLedgerOptions) {
    this.assets = options.assets;
    this.k = options.assets.length;
    this.recordSize = recordBytes(this.k);
    this.batchRows = options.batchRows ?? 4096;
    this.onRows = options.onRows;
    this.units = options.units;
    if (options.units === "decimal" && options.decimals?.length !== options.assets.length) {
      throw new Error("parseLedger: units decimal needs one decimals count per asset");
    }
    this.decimals = options.decimals ?? [];
    const limit = options.dedupLimit ?? 1_000_000;
    this.userIds = new FingerprintSet(limit);
    this.commitments = new FingerprintSet(limit);
    this.totals = options.assets.map(() => 0n);
    this.batch = new Uint8Array(this.batchRows * this.recordSize);
    this.format = options.format;
  }

  private readonly format: LedgerFormat;
  private readonly units: AmountUnits;
  private readonly decimals: readonly number[];

  /** Row number of the current line: CSV counts the header as row 0. */
  private get row(): number {
    return this.format === "csv" ? this.line0 : this.line0 + 1;
  }

  private error(row: number, reason: string): void {
    this.errorCount += 1;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push({ row, reason });
  }

  /** The current line passed MAX_LINE_CHARS; `text` is what was read of it. Reported once per line. */
  tooLong(text: string): void {
    this.line0 += 1;
    if (this.utf8Failed || this.csvAsNdjson) return;
    const bareCr = text.includes("\r")
      ? ": its lines seem to end with a bare carriage return (CR); end them with LF or CRLF"
      : "";
    if (this.format === "csv" && !this.headerSeen) {
      // The header itself: rows cannot be read, and the body is not "empty" either.
      this.headerSeen = true;
      this.form = null;
      this.error(0, `the header line is longer than ${MAX_LINE_CHARS} characters${bareCr}`);
      return;
    }
    if (this.format === "csv" && this.form === null) return; // the header was rejected: its error stands for every row
    this.error(this.row, `line longer than ${MAX_LINE_CHARS} characters${bareCr}`);
  }

  /** True once the body was found not to be UTF-8: nothing after that point is read. */
  get stopped(): boolean {
    return this.utf8Failed;
  }

  /** `linesAhead`: line breaks between the last line read and the bad byte. */
  invalidUtf8(linesAhead = 0): void {
    if (this.utf8Failed) return;
    this.utf8Failed = true;
    const line = this.line0 + 1 + linesAhead;
    this.error(Math.max(this.format === "csv" ? line : line + 1, 0), "the body is not valid UTF-8 (near this row)");
  }

  async line(raw: string): Promise<void> {
    this.line0 += 1;
    let text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (this.line0 === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (this.format === "csv" && !this.headerSeen) {
      if (text.trim() === "") {
        // leading blank lines do not shift the numbering
        this.line0 -= 1;
        return;
      }
      this.header(text);
      return;
    }
    if (text.trim() === "") return;
    if (this.format === "csv" && this.form === null) return; // header was rejected: rows cannot be read
    if (this.csvAsNdjson) return; // its error stands for every row
    try {
      const parsed = this.format === "csv" ? this.csvRow(text) : this.ndjsonRow(text);
      await this.accept(parsed.commitment, parsed.balances, parsed.userId);
    } catch (e) {
      if (e instanceof RowError) this.error(this.row, e.message);
      else throw e;
    }
  }

  private header(text: string): void {
    this.headerSeen = true;
    const cols = splitCsv(text);
    const expected = this.assets.join(",");
    let assetCols: string[];
    if (cols[0] === "userId" && cols[1] === "salt") {
      this.form = "user";
      assetCols = cols.slice(2);
    } else if (cols[0] === "commitment") {
      this.form = "commitment";
      assetCols = cols.slice(1);
    } else {
      this.error(0, `header must start with "userId,salt" or "commitment", got "${clip(text)}"`);
      return;
    }
    if (assetCols.join(",") !== expected || assetCols.length !== this.k) {
      this.form = null;
      this.error(
        0,
        `asset columns must be exactly the issuer's ledger assets in order (${expected}), got "${clip(assetCols.join(","))}"`,
      );
    }
  }

  private csvRow(text: string): { commitment: Uint8Array; balances: bigint[]; userId?: string } {
    const cols = splitCsv(text);
    const lead = this.form === "user" ? 2 : 1;
    if (cols.length !== lead + this.k) throw new RowError(`expected ${lead + this.k} columns, got ${cols.length}`);
    const balances = this.balances(cols.slice(lead), lead + 1);
    if (this.form === "user") return { ...this.user(cols[0]!, cols[1]!), balances };
    return { commitment: this.commitment(cols[0]!), balances };
  }

  private ndjsonRow(text: string): { commitment: Uint8Array; balances: bigint[]; userId?: string } {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      if (
        this.form === null &&
        this.rows === 0 &&
        this.errorCount === 0 &&
        /^"?(userId"?,"?salt|commitment)"?,/.test(text)
      ) {
        // A CSV file sent as NDJSON: one error for it, not one per row.
        this.csvAsNdjson = true;
        throw new RowError(
          "this is a CSV header, not a JSON object: send the file as CSV (Content-Type text/csv or ?format=csv)",
        );
      }
      throw new RowError("not a JSON object");
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new RowError("not a JSON object");
    const obj = doc as Record<string, unknown>;
    const form: LedgerForm = "commitment" in obj ? "commitment" : "user";
    const allowed = form === "user" ? ["userId", "salt", "balances"] : ["commitment", "balances"];
    const extra = Object.keys(obj).filter((key) => !allowed.includes(key));
    if (extra.length > 0) throw new RowError(`unexpected field ${extra.map((x) => `"${clip(x)}"`).join(", ")}`);
    if (this.form === null) this.form = form;
    else if (this.form !== form) {
      throw new RowError(`mixes forms: earlier rows give ${this.form === "user" ? "userId and salt" : "commitment"}`);
    }
    const b = obj.balances;
    if (typeof b !== "object" || b === null || Array.isArray(b))
      throw new RowError("balances must be an object of asset: amount");
    const bal = b as Record<string, unknown>;
    const missing = this.assets.filter((a) => !Object.hasOwn(bal, a));
    if (missing.length > 0) throw new RowError(`balances miss asset ${missing.join(", ")}`);
    const extras = Object.keys(bal).filter((a) => !this.assets.includes(a));
    if (extras.length > 0) throw new RowError(`balances name unknown asset ${extras.map((x) => clip(x)).join(", ")}`);
    const balances = this.balances(
      this.assets.map((a) => bal[a]),
      0,
    );
    if (form === "user") {
      if (typeof obj.userId !== "string") throw new RowError("userId must be a string");
      if (typeof obj.salt !== "string") throw new RowError("salt must be a 0x-hex string");
      return { ...this.user(obj.userId, obj.salt), balances };
    }
    if (typeof obj.commitment !== "string") throw new RowError("commitment must be a 0x-hex string");
    return { commitment: this.commitment(obj.commitment), balances };
  }

  /** `firstColumn`: the 1-based CSV column of the first asset (0 for NDJSON, whose amounts are named by key). */
  private balances(values: unknown[], firstColumn: number): bigint[] {
    return values.map((v, i) => {
      const asset = this.assets[i]!;
      const field = firstColumn > 0 ? `${asset} (column ${firstColumn + i})` : `balances.${asset}`;
      try {
        return parseUploadedAmount(v, this.units, this.decimals[i] ?? 0, field, UINT128_MAX);
      } catch (e) {
        if (!(e instanceof SolventError)) throw e;
        if (this.units === "decimal" && /fractional digits/.test(e.message))
          throw new RowError(`${e.message.replace("the asset has", `${asset} has`)}`);
        if (this.units === "base" && typeof v === "string" && /^(0|[1-9][0-9]*)\.[0-9]+$/.test(v)) {
          throw new RowError(
            `${e.message}: this upload is in base units (units=base), which are whole numbers; leave units out to write amounts like 1500.25`,
          );
        }
        throw new RowError(e.message);
      }
    });
  }

  private user(userId: string, salt: string): { commitment: Uint8Array; userId: string } {
    if (userId === "") throw new RowError("userId is empty");
    try {
      return { commitment: userCommitment(parseSalt(salt, "salt"), userId), userId };
    } catch (e) {
      if (e instanceof SolventError) throw new RowError(e.message);
      throw e;
    }
  }

  private commitment(hex: string): Uint8Array {
    try {
      return hexToBytes(hex, "commitment", HASH_BYTES);
    } catch (e) {
      if (e instanceof SolventError) throw new RowError(e.message);
      throw e;
    }
  }

  private async accept(commitment: Uint8Array, balances: bigint[], userId: string | undefined): Promise<void> {
    const row = this.row;
    if (userId !== undefined) {
      const [hi, lo] = stringFingerprint(userId);
      const first = this.userIds.addOrGet(hi, lo, row);
      if (first !== 0) throw new RowError(`duplicate userId "${clip(userId)}": row ${first} has the same userId`);
    }
    const cv = new DataView(commitment.buffer, commitment.byteOffset, HASH_BYTES);
    const first = this.commitments.addOrGet(cv.getUint32(0), cv.getUint32(4), row);
    if (first !== 0)
      throw new RowError(`duplicate commitment ${bytesToHex(commitment)}: row ${first} has the same commitment`);
    const totals = this.totals.map((t, i) => t + balances[i]!);
    const over = totals.findIndex((t) => t > UINT128_MAX);
    if (over >= 0)
      throw new RowError(
        `the total of ${this.assets[over]} reaches 2^128 at this row (SPEC §2 sums must stay below 2^128)`,
      );
    this.totals = totals;
    this.rows += 1;
    if (this.errorCount > 0 || this.onRows === undefined) return;
    const o = this.batchCount * this.recordSize;
    new DataView(this.batch.buffer).setUint32(o, row);
    this.batch.set(commitment, o + 4);
    balances.forEach((b, i) => {
      writeUint128(this.batch, o + 4 + HASH_BYTES + i * SUM_BYTES, b);
    });
    this.batchCount += 1;
    if (this.batchCount === this.batchRows) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.batchCount === 0 || this.onRows === undefined) return;
    const records = this.batch.slice(0, this.batchCount * this.recordSize);
    this.batchCount = 0;
    await this.onRows({ count: records.length / this.recordSize, records });
  }

  async finish(bytes: number): Promise<ParsedLedger> {
    if (this.utf8Failed) {
      // Its error stands alone: what could not be read is neither "empty" nor "no rows".
    } else if (this.format === "csv" && !this.headerSeen) this.error(0, "the body is empty: expected a header line");
    else if (this.rows === 0 && this.errorCount === 0) this.error(1, "the ledger has no rows");
    if (this.errorCount === 0) await this.flush();
    return {
      rows: this.rows,
      form: this.form,
      errors: this.errors,
      errorCount: this.errorCount,
      bytes,
      totals: this.totals,
      lastRow: Math.max(0, this.row),
    };
  }
}

/** CSV fields of one line; a field may be double-quoted with "" for a quote. */
function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (line[i] === '"') {
      i += 1;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new RowError("unterminated quoted field");
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i < line.length && line[i] !== ",") throw new RowError("text after a closing quote");
    } else {
      const comma = line.indexOf(",", i);
      const end = comma < 0 ? line.length : comma;
      field = line.slice(i, end);
      if (field.includes('"')) throw new RowError("a quote inside an unquoted field");
      i = end;
    }
    out.push(field);
    if (i >= line.length) return out;
    i += 1; // the comma
    if (i === line.length) {
      out.push("");
      return out;
    }
  }
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Two independent 32-bit hashes of a string's UTF-16 units (a 64-bit fingerprint). */
function stringFingerprint(text: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/**
 * Open-addressing set of 64-bit fingerprints, each with the row that added it:
 * 12 bytes a slot, at most half full. Two distinct keys share a fingerprint
 * with probability about n^2 / 2^65 (3e-10 for 100,000 rows).
 */
class FingerprintSet {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private rows = new Uint32Array(1024); // row + 1; 0 = empty
  private size = 0;

  constructor(private readonly limit: number) {}

  /** Adds the fingerprint for `row`; returns the earlier row holding it, or 0 (row numbers are >= 1). */
  addOrGet(hi: number, lo: number, row: number): number {
    if (this.size >= this.limit) return 0;
    if (2 * (this.size + 1) > this.rows.length) this.grow();
    const mask = this.rows.length - 1;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    for (;;) {
      const r = this.rows[i]!;
      if (r === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        this.rows[i] = row + 1;
        this.size += 1;
        return 0;
      }
      if (this.hi[i] === hi && this.lo[i] === lo) return r - 1;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const { hi, lo, rows } = this;
    this.hi = new Uint32Array(rows.length * 2);
    this.lo = new Uint32Array(rows.length * 2);
    this.rows = new Uint32Array(rows.length * 2);
    this.size = 0;
    for (let i = 0; i < rows.length; i++) if (rows[i] !== 0) this.addOrGet(hi[i]!, lo[i]!, rows[i]! - 1);
  }
}
