/**
 * Spooling the normalized rows of an upload (parseLedger.ts records) into
 * SPOOL_BUCKETS commitment-range buckets in R2, joining the spools of a
 * multi-part upload's parts, and reading a spool back bucket by bucket for the
 * build. Object keys and manifest shapes: ledgerFormat.ts.
 */
import {
  type PartManifest,
  partObjectKey,
  renumberRows,
  rowOffsets,
  SPOOL_BUCKETS,
  type SpoolBucket,
  type SpoolManifest,
  spoolBucketOf,
  spoolManifestKey,
  spoolObjects,
  spoolPartKey,
} from "./ledgerFormat.js";
import { readJson, readObject } from "./ledgerStore.js";
import type { LedgerRowBatch } from "./parseLedger.js";

/**
 * Normalized rows of an upload. Held in memory while there are at most
 * `memoryRows` rows (the in-request build reads them from there); past that
 * every row goes to the spool bucket of its commitment (spoolBucketOf), each
 * written to R2 in parts of about `partBytes`.
 */
export class RowSpool {
  private memory: Uint8Array[] = [];
  private spilled = false;
  private buffers: Uint8Array[] = [];
  private fill: number[] = [];
  private parts: number[] = [];
  private bucketRows: number[] = [];
  rows = 0;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly ledgerId: string,
    private readonly recordSize: number,
    private readonly memoryRows: number,
    private readonly partBytes = 256 * 1024,
    /** Key of bucket b's object number `part` (a multi-part upload's part writes under its own prefix). */
    private readonly keyOf: (b: number, part: number) => string = (b, part) => spoolPartKey(ledgerId, b, part),
  ) {}

  /** True while every row is still in memory. */
  get inMemory(): boolean {
    return !this.spilled;
  }

  async add(batch: LedgerRowBatch): Promise<void> {
    this.rows += batch.count;
    if (!this.spilled) {
      this.memory.push(batch.records);
      if (this.rows <= this.memoryRows) return;
      this.spilled = true;
      const held = this.memory;
      this.memory = [];
      const per = Math.max(this.recordSize, Math.floor(this.partBytes / this.recordSize) * this.recordSize);
      for (let b = 0; b < SPOOL_BUCKETS; b++) {
        this.buffers.push(new Uint8Array(per));
        this.fill.push(0);
        this.parts.push(0);
        this.bucketRows.push(0);
      }
      for (const records of held) await this.scatter(records);
      return;
    }
    await this.scatter(batch.records);
  }

  /** The rows held in memory, in upload order (only while `inMemory`). */
  memoryRecords(): Uint8Array {
    const total = this.memory.reduce((n, r) => n + r.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const r of this.memory) {
      out.set(r, o);
      o += r.length;
    }
    return out;
  }

  private async scatter(records: Uint8Array): Promise<void> {
    const n = records.length / this.recordSize;
    for (let i = 0; i < n; i++) {
      const b = spoolBucketOf(records, i * this.recordSize);
      const buf = this.buffers[b]!;
      buf.set(records.subarray(i * this.recordSize, (i + 1) * this.recordSize), this.fill[b]!);
      this.fill[b]! += this.recordSize;
      this.bucketRows[b]! += 1;
      if (this.fill[b] === buf.length) await this.flush(b);
    }
  }

  private async flush(b: number): Promise<void> {
    const len = this.fill[b]!;
    if (len === 0) return;
    await this.bucket.put(this.keyOf(b, this.parts[b]!), this.buffers[b]!.slice(0, len));
    this.parts[b]! += 1;
    this.fill[b] = 0;
  }

  /** Writes what is buffered (only when spilled) and returns the buckets' rows and object counts. */
  async flushAll(): Promise<{ rows: number; parts: number }[]> {
    if (!this.spilled) return [];
    for (let b = 0; b < SPOOL_BUCKETS; b++) await this.flush(b);
    return this.bucketRows.map((rows, b) => ({ rows, parts: this.parts[b]! }));
  }

  /** Writes what is buffered and the spool manifest (only when spilled), with the upload's totals and last row when given. */
  async finish(facts: { totals?: readonly bigint[]; lastRow?: number } = {}): Promise<void> {
    if (!this.spilled) return;
    const manifest: SpoolManifest = {
      recordBytes: this.recordSize,
      order: "commitment",
      rows: this.rows,
      buckets: await this.flushAll(),
      ...(facts.totals ? { totals: facts.totals.map(String) } : {}),
      ...(facts.lastRow !== undefined ? { lastRow: facts.lastRow } : {}),
    };
    await this.bucket.put(spoolManifestKey(this.ledgerId), JSON.stringify(manifest));
  }
}

/**
 * The spooled rows of a large upload, bucket by bucket (each bucket fully in
 * memory, its rows in no particular order; `ranges` when the buckets are
 * ascending commitment ranges). Null when the spool manifest is missing.
 */
export async function openRowSpool(
  bucket: R2Bucket,
  ledgerId: string,
): Promise<{ rows: number; recordBytes: number; ranges: boolean; buckets: () => AsyncGenerator<Uint8Array> } | null> {
  const manifest = await readJson<SpoolManifest>(bucket, spoolManifestKey(ledgerId));
  if (manifest === null) return null;
  return {
    rows: manifest.rows,
    recordBytes: manifest.recordBytes,
    ranges: manifest.order === "commitment",
    buckets: async function* () {
      for (let b = 0; b < manifest.buckets.length; b++) {
        const { rows } = manifest.buckets[b]!;
        const offsets = rowOffsets(manifest.partRows);
        const out = new Uint8Array(rows * manifest.recordBytes);
        let o = 0;
        for (const piece of spoolObjects(manifest, ledgerId, b)) {
          const part = await readObject(bucket, piece.key);
          if (part === null) throw new Error(`spool object ${piece.key} is missing`);
          if (o + part.length > out.length)
            throw new Error(`spool bucket ${b} of ledger ${ledgerId} holds more than ${rows} rows`);
          renumberRows(part, manifest.recordBytes, offsets[piece.part]!);
          out.set(part, o);
          o += part.length;
        }
        if (o !== out.length)
          throw new Error(`spool bucket ${b} of ledger ${ledgerId} holds ${o} bytes, expected ${out.length}`);
        yield out;
      }
    },
  };
}

/**
 * The spool manifest of the joined upload: per spool bucket, the objects of
 * every part in part order. `parts` must be the manifests of parts 0..n-1 in order.
 */
export function joinParts(ledgerId: string, parts: readonly PartManifest[]): SpoolManifest {
  const recordBytes = parts[0]!.recordBytes;
  const buckets: SpoolBucket[] = Array.from({ length: SPOOL_BUCKETS }, () => ({ rows: 0, parts: 0, pieces: [] }));
  parts.forEach((m, i) => {
    if (m.part !== i) throw new Error(`part manifests out of order: ${m.part} at ${i}`);
    if (m.recordBytes !== recordBytes)
      throw new Error(`part ${m.part} has ${m.recordBytes}-byte records, part 0 has ${recordBytes}`);
    m.buckets.forEach((b, bi) => {
      const into = buckets[bi]!;
      into.rows += b.rows;
      into.parts += b.parts;
      for (let k = 0; k < b.parts; k++)
        into.pieces!.push({ key: partObjectKey(ledgerId, m.part, m.attempt, bi, k), part: m.part });
    });
  });
  return {
    recordBytes,
    // One part with random buckets (received before commitment order) makes the whole upload build in random order.
    ...(parts.every((m) => m.order === "commitment") ? { order: "commitment" as const } : {}),
    rows: parts.reduce((n, m) => n + m.rows, 0),
    buckets,
    partRows: parts.map((m) => m.lastRow),
    // Totals only when every part recorded its own (parts received before totals were kept have none).
    ...(parts.length > 0 && parts.every((m) => m.totals !== undefined)
      ? {
          totals: parts[0]!.totals!.map((_, k) => parts.reduce((t, m) => t + BigInt(m.totals![k]!), 0n).toString(10)),
        }
      : {}),
  };
}
/** Why the received parts cannot make an upload of `expected` parts, or null when they are exactly 0..expected-1. */
export function missingOrExtraParts(received: readonly number[], expected: number): string | null {
  const have = new Set(received);
  const missing: number[] = [];
  for (let p = 0; p < expected && missing.length < 10; p++) if (!have.has(p)) missing.push(p);
  if (missing.length > 0)
    return `part${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${expected} ${missing.length > 1 ? "have" : "has"} not been received`;
  const extra = received.filter((p) => p >= expected);
  if (extra.length > 0)
    return `part ${extra[0]} was received but the upload was declared to have ${expected} part(s) (0..${expected - 1})`;
  return null;
}
