import type { Address } from "viem";
import { parseAddress } from "./address.js";
import { fail } from "./errors.js";
import { parseSafeInteger } from "./numbers.js";

/**
 * What a key signs (SPEC §7): SPEC §5 attestations (the default, and the only
 * role of entries without `role`), or one issuer's SPEC §12 balance receipts.
 */
export type KeyRole = "attestations" | "receipts";

export const KEY_ROLES: readonly KeyRole[] = ["attestations", "receipts"];

/**
 * SPEC §7 keys document. A key signs for `validFrom <= t < validUntil`
 * (`validUntil: null` means still open). The end is exclusive so that at the
 * rotation instant exactly one key is valid. An entry without `role` signs
 * attestations; `role: "receipts"` carries the `issuer` whose receipts it
 * signs. A key signs only for its role: a receipts key never verifies an
 * attestation and an attestations key never verifies a receipt.
 */
export interface KeyEntry {
  /** Lowercase 0x address (SPEC §1 bytes form). */
  address: Address;
  validFrom: number;
  validUntil: number | null;
  /** Absent on attestation keys (the default role), so documents from before roles read the same. */
  role?: "receipts";
  /** The issuer id whose receipts the key signs; present exactly when `role` is "receipts". */
  issuer?: string;
}

export interface KeysDocument {
  keys: KeyEntry[];
}

function rejectUnknownKeys(value: Record<string, unknown>, allowed: readonly string[], record: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail("INVALID_DOCUMENT", `${record}.${key}`, "is not a field of the keys document");
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseKeyEntry(value: unknown, record: string): KeyEntry {
  if (!isPlainObject(value)) fail("INVALID_DOCUMENT", record, "must be an object");
  rejectUnknownKeys(value, ["address", "validFrom", "validUntil", "role", "issuer"], record);
  const address = parseAddress(value.address, `${record}.address`);
  const role = value.role ?? "attestations";
  if (typeof role !== "string" || !(KEY_ROLES as readonly string[]).includes(role)) {
    fail(
      "INVALID_DOCUMENT",
      `${record}.role`,
      `must be "attestations" or "receipts" (SPEC §7), got ${JSON.stringify(role)?.slice(0, 40)}`,
    );
  }
  if (role === "receipts" && (typeof value.issuer !== "string" || value.issuer === "")) {
    fail(
      "INVALID_DOCUMENT",
      `${record}.issuer`,
      'is required for a "receipts" key: the id of the issuer whose receipts it signs',
    );
  }
  if (role === "attestations" && value.issuer !== undefined) {
    fail(
      "INVALID_DOCUMENT",
      `${record}.issuer`,
      'belongs only to "receipts" keys; an attestations key signs for every issuer of the publisher',
    );
  }
  const validFrom = parseSafeInteger(value.validFrom, `${record}.validFrom`);
  if (!("validUntil" in value))
    fail("INVALID_DOCUMENT", `${record}.validUntil`, "is missing (use null for an open key)");
  const validUntil = value.validUntil === null ? null : parseSafeInteger(value.validUntil, `${record}.validUntil`);
  if (validUntil !== null && validUntil <= validFrom) {
    fail("INVALID_DOCUMENT", `${record}.validUntil`, `${validUntil} must be after validFrom ${validFrom}`);
  }
  return role === "receipts"
    ? { address, validFrom, validUntil, role, issuer: value.issuer as string }
    : { address, validFrom, validUntil };
}

/** Strictly parses a SPEC §7 keys document; addresses come out lowercase. */
export function parseKeysDocument(json: unknown): KeysDocument {
  if (!isPlainObject(json)) fail("INVALID_DOCUMENT", "keys document", "must be a JSON object");
  rejectUnknownKeys(json, ["keys"], "keys document");
  if (!Array.isArray(json.keys)) fail("INVALID_DOCUMENT", "keys", "must be an array");
  if (json.keys.length === 0) fail("INVALID_DOCUMENT", "keys", "must list at least one key");
  return { keys: json.keys.map((entry, i) => parseKeyEntry(entry, `keys[${i}]`)) };
}

function toSeconds(time: bigint | number, field: string): bigint {
  if (typeof time === "number" && !Number.isSafeInteger(time)) fail("INVALID_NUMBER", field, "must be an integer");
  return BigInt(time);
}

function entryValidAt(entry: KeyEntry, t: bigint): boolean {
  return BigInt(entry.validFrom) <= t && (entry.validUntil === null || t < BigInt(entry.validUntil));
}

/** The role an entry signs for (entries without `role` sign attestations). */
export function keyRole(entry: KeyEntry): KeyRole {
  return entry.role ?? "attestations";
}

/** Whether `address` (any case) may sign SPEC §5 attestations for time `time` (unix seconds). Receipts keys never can. */
export function keyValidAt(doc: KeysDocument, address: string, time: bigint | number): boolean {
  return keyValidFor(doc, address, time, { role: "attestations" });
}

/**
 * Whether `address` (any case) may sign for `role` at time `time` (unix
 * seconds); for "receipts", only the receipts of `issuer`.
 */
export function keyValidFor(
  doc: KeysDocument,
  address: string,
  time: bigint | number,
  purpose: { role: "attestations" } | { role: "receipts"; issuer: string },
): boolean {
  const t = toSeconds(time, "time");
  const wanted = address.toLowerCase();
  return doc.keys.some(
    (entry) =>
      entry.address.toLowerCase() === wanted &&
      keyRole(entry) === purpose.role &&
      (purpose.role === "attestations" || entry.issuer === purpose.issuer) &&
      entryValidAt(entry, t),
  );
}

/** A first keys document holding one open key. */
export function createKeysDocument(params: { address: string; validFrom: number }): KeysDocument {
  const address = parseAddress(params.address, "address");
  const validFrom = parseSafeInteger(params.validFrom, "validFrom");
  return { keys: [{ address, validFrom, validUntil: null }] };
}

/**
 * Returns a new document in which every open attestations key closes at `at` and
 * `newAddress` opens at `at`. Entries are never removed or reordered, so old
 * attestations keep verifying against the key that signed them.
 */
export function rotateKey(doc: KeysDocument, params: { newAddress: string; at: bigint | number }): KeysDocument {
  const newAddress = parseAddress(params.newAddress, "newAddress");
  const atSeconds = toSeconds(params.at, "at");
  if (atSeconds < 0n || atSeconds > BigInt(Number.MAX_SAFE_INTEGER))
    fail("OUT_OF_RANGE", "at", `${atSeconds} is not a unix time`);
  const at = Number(atSeconds);
  const keys = doc.keys.map((entry, i): KeyEntry => {
    if (entry.validUntil !== null || keyRole(entry) !== "attestations") return { ...entry };
    if (entry.validFrom >= at) {
      fail(
        "INVALID_ARGUMENT",
        `keys[${i}]`,
        `open key ${entry.address} starts at ${entry.validFrom}, so it cannot be closed at ${at}`,
      );
    }
    if (entry.address === newAddress) fail("INVALID_ARGUMENT", "newAddress", `${newAddress} is already the open key`);
    return { ...entry, validUntil: at };
  });
  keys.push({ address: newAddress, validFrom: at, validUntil: null });
  return { keys };
}
