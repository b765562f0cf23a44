/**
 * Multi-part ledger uploads: a ledger too large for one request body (Workers
 * accept 100 MB on Free/Pro, 500 MB on Enterprise) is sent as numbered parts,
 * each validated and spooled on its own, then joined into one spool manifest
 * and built like any large upload (shardedBuild.ts).
 *
 * R2 objects, under `ledgers/{ledgerId}/spool/` (next to ledgerStore.ts's spool):
 *
 *   upload.json                        UploadMarker: this ledger is a multi-part upload.
 *   parts/{part}.json                  PartManifest of a received part, written once
 *                                      (conditional put): a part is never replaced.
 *   parts/{part}/{attempt}/{b}-{k}.bin the part's normalized rows (parseLedger.ts
 *                                      records, rows numbered within the part) in
 *                                      spool bucket b. An attempt that fails or loses
 *                                      the race for its part is deleted; anything
 *                                      left over goes with the spool once complete.
 *
 * Joining lists every part's objects per spool bucket (SpoolManifest.pieces)
 * and its last row number (partRows), so the build numbers rows across parts
 * and names "part p row r" in its errors.
 */
import type { AmountUnits } from "../../core/numbers.js";
import type { LedgerFormat } from "./parseLedger.js";
import { SPOOL_BUCKETS, type SpoolBucket, type SpoolManifest } from "./ledgerStore.js";

/** Parts per upload: part numbers 0 .. MAX_UPLOAD_PARTS - 1. */
export const MAX_UPLOAD_PARTS = 1000;

const spoolPrefix = (ledgerId: string) => `ledgers/${ledgerId}/spool/`;
export const uploadMarkerKey = (ledgerId: string) => `${spoolPrefix(ledgerId)}upload.json`;
export const partsPrefix = (ledgerId: string) => `${spoolPrefix(ledgerId)}parts/`;
export const partManifestKey = (ledgerId: string, part: number) => `${partsPrefix(ledgerId)}${part}.json`;
export const partAttemptPrefix = (ledgerId: string, part: number, attempt: string) => `${partsPrefix(ledgerId)}${part}/${attempt}/`;
export const partObjectKey = (ledgerId: string, part: number, attempt: string, b: number, k: number) =>
  `${partAttemptPrefix(ledgerId, part, attempt)}${b}-${k}.bin`;

export interface UploadMarker {
  version: 1;
  format: LedgerFormat;
  createdAt: number;
  /**
   * How every part writes amounts, fixed when the upload is created. Absent in
   * uploads created before amounts could be decimals: those are base units.
   */
  units?: AmountUnits;
  /** The ledger assets' decimals when the upload was created (with `units`). */
  decimals?: number[];
}

/** The units of an upload: an upload created before units were recorded is in base units. */
export const markerUnits = (marker: UploadMarker): AmountUnits => marker.units ?? "base";

/** A received part: where its rows are and how many. */
export interface PartManifest {
  version: 1;
  part: number;
  attempt: string;
  /** Valid rows. */
  rows: number;
  /** Its last row number (blank lines count): the next part's rows are numbered after it. */
  lastRow: number;
  bytes: number;
  recordBytes: number;
  /** Per spool bucket, the rows and objects this part wrote there. */
  buckets: { rows: number; parts: number }[];
  /** "commitment": the part's buckets are commitment ranges (ledgerStore.ts spoolBucketOf); absent in parts received before. */
  order?: "commitment";
  receivedAt: number;
}

export async function readUploadMarker(bucket: R2Bucket, ledgerId: string): Promise<UploadMarker | null> {
  const obj = await bucket.get(uploadMarkerKey(ledgerId));
  return obj === null ? null : ((await obj.json()) as UploadMarker);
}

/** Records `manifest` unless its part was already received; false when it was. */
export async function putPartManifest(bucket: R2Bucket, ledgerId: string, manifest: PartManifest): Promise<boolean> {
  const written = await bucket.put(partManifestKey(ledgerId, manifest.part), JSON.stringify(manifest), {
    onlyIf: { etagDoesNotMatch: "*" },
    httpMetadata: { contentType: "application/json" },
  });
  return written !== null;
}

/** Part numbers received so far, ascending. */
export async function listReceivedParts(bucket: R2Bucket, ledgerId: string): Promise<number[]> {
  const prefix = partsPrefix(ledgerId);
  const parts: number[] = [];
  let cursor: string | undefined;
  do {
    const list = await bucket.list({ prefix, delimiter: "/", ...(cursor ? { cursor } : {}) });
    for (const o of list.objects) {
      const m = /^(0|[1-9][0-9]*)\.json$/.exec(o.key.slice(prefix.length));
      if (m) parts.push(Number(m[1]));
    }
    cursor = list.truncated ? list.cursor : undefined;
  } while (cursor !== undefined);
  return parts.sort((a, b) => a - b);
}

export async function readPartManifest(bucket: R2Bucket, ledgerId: string, part: number): Promise<PartManifest | null> {
  const obj = await bucket.get(partManifestKey(ledgerId, part));
  return obj === null ? null : ((await obj.json()) as PartManifest);
}

/** Why the received parts cannot make an upload of `expected` parts, or null when they are exactly 0..expected-1. */
export function missingOrExtraParts(received: readonly number[], expected: number): string | null {
  const have = new Set(received);
  const missing: number[] = [];
  for (let p = 0; p < expected && missing.length < 10; p++) if (!have.has(p)) missing.push(p);
  if (missing.length > 0) return `part${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${expected} ${missing.length > 1 ? "have" : "has"} not been received`;
  const extra = received.filter((p) => p >= expected);
  if (extra.length > 0) return `part ${extra[0]} was received but the upload was declared to have ${expected} part(s) (0..${expected - 1})`;
  return null;
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
    if (m.recordBytes !== recordBytes) throw new Error(`part ${m.part} has ${m.recordBytes}-byte records, part 0 has ${recordBytes}`);
    m.buckets.forEach((b, bi) => {
      const into = buckets[bi]!;
      into.rows += b.rows;
      into.parts += b.parts;
      for (let k = 0; k < b.parts; k++) into.pieces!.push({ key: partObjectKey(ledgerId, m.part, m.attempt, bi, k), part: m.part });
    });
  });
  return {
    recordBytes,
    // One part with random buckets (received before commitment order) makes the whole upload build in random order.
    ...(parts.every((m) => m.order === "commitment") ? { order: "commitment" as const } : {}),
    rows: parts.reduce((n, m) => n + m.rows, 0),
    buckets,
    partRows: parts.map((m) => m.lastRow),
  };
}
