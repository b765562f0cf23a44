import { keccak256 } from "viem";
import { bytesEqual, type Hex } from "../../core/bytes.js";

/** Another object with different bytes already sits at the report's key: nothing was written. */
export class ReportConflictError extends Error {
  override readonly name = "ReportConflictError";
  constructor(readonly key: string) {
    super(`a different report is already stored at ${key}; stored reports are never replaced`);
  }
}

/** Content address of a report (SPEC §4 reportHash = keccak256 of the exact bytes). */
export function reportKey(issuerId: string, reportHash: Hex): string {
  if (!/^0x[0-9a-f]{64}$/.test(reportHash))
    throw new Error(`reportHash ${reportHash} must be 32 bytes of lowercase 0x hex`);
  if (issuerId === "" || issuerId.includes("/")) throw new Error(`issuerId "${issuerId}" cannot be a key segment`);
  return `reports/${issuerId}/${reportHash}.json`;
}

async function sameBytes(bucket: R2Bucket, key: string, bytes: Uint8Array): Promise<boolean> {
  const existing = await bucket.get(key);
  if (existing === null) return false;
  return bytesEqual(new Uint8Array(await existing.arrayBuffer()), bytes);
}

/**
 * Stores report bytes at their content address and returns the key.
 * Idempotent: storing the same bytes again is a no-op. It never replaces
 * different bytes: the write is conditional on the key being absent
 * (`If-None-Match: *`), so even a racing writer cannot overwrite, and when
 * the key is taken the stored bytes are compared with ours (equal: fine;
 * different: ReportConflictError). The hash is checked first, so a
 * conflict can only mean a corrupted object, never a legitimate report.
 */
export async function putReport(
  bucket: R2Bucket,
  issuerId: string,
  bytes: Uint8Array,
  reportHash: Hex,
): Promise<string> {
  const key = reportKey(issuerId, reportHash);
  const actual = keccak256(bytes);
  if (actual !== reportHash) throw new Error(`report bytes hash to ${actual}, not ${reportHash}`);
  // Cheap path for retries: a head avoids re-uploading a possibly large body.
  const head = await bucket.head(key);
  if (head === null) {
    const written = await bucket.put(key, bytes, {
      onlyIf: { etagDoesNotMatch: "*" },
      httpMetadata: { contentType: "application/json" },
      customMetadata: { issuerId, reportHash },
    });
    if (written !== null) return key;
    // Someone wrote the key between head and put: fall through and compare.
  }
  if (!(await sameBytes(bucket, key, bytes))) throw new ReportConflictError(key);
  return key;
}

/** The exact stored bytes, or null when the key holds nothing. */
export async function getReport(bucket: R2Bucket, key: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const object = await bucket.get(key);
  if (object === null) return null;
  return new Uint8Array(await object.arrayBuffer());
}
