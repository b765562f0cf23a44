import { type Address, hashTypedData, keccak256, recoverTypedDataAddress } from "viem";
import type { LocalAccount } from "viem/accounts";
import { type Hex, hexToBytes, utf8 } from "./bytes.js";
import { fail, SolventError } from "./errors.js";
import { type KeysDocument, keyValidAt } from "./keysDocument.js";
import { parseAmount, RATIO_BPS_MAX, UINT64_MAX, UINT256_MAX } from "./numbers.js";
import { assertLowS } from "./signature.js";

/** SPEC §5 domain: no chainId, no verifyingContract. */
export const ATTESTATION_DOMAIN = { name: "Solvent", version: "1" } as const;

/** SPEC §5 struct, fields in SPEC order (the order is part of the type hash). */
export const ATTESTATION_TYPES = {
  SolvencyAttestation: [
    { name: "issuer", type: "bytes32" },
    { name: "sequence", type: "uint64" },
    { name: "previous", type: "bytes32" },
    { name: "observedAt", type: "uint64" },
    { name: "validUntil", type: "uint64" },
    { name: "reservesUsd", type: "uint256" },
    { name: "onchainReservesUsd", type: "uint256" },
    { name: "offchainReservesUsd", type: "uint256" },
    { name: "liabilitiesUsd", type: "uint256" },
    { name: "ratioBps", type: "uint32" },
    { name: "reservesRoot", type: "bytes32" },
    { name: "liabilitiesRoot", type: "bytes32" },
    { name: "flags", type: "uint64" },
    { name: "reportHash", type: "bytes32" },
  ],
} as const;

export const ZERO_HASH: Hex = `0x${"00".repeat(32)}`;

export interface Attestation {
  issuer: Hex;
  sequence: bigint;
  previous: Hex;
  observedAt: bigint;
  validUntil: bigint;
  reservesUsd: bigint;
  onchainReservesUsd: bigint;
  offchainReservesUsd: bigint;
  liabilitiesUsd: bigint;
  ratioBps: number;
  reservesRoot: Hex;
  liabilitiesRoot: Hex;
  flags: bigint;
  reportHash: Hex;
}

/** SPEC §10 JSON form: integers as decimal strings, bytes as 0x-lowercase hex. */
export type AttestationJson = { [K in keyof Attestation]: string };

type FieldKind = "bytes32" | "uint64" | "uint256" | "uint32";
const FIELD_KINDS: ReadonlyArray<readonly [keyof Attestation, FieldKind]> = ATTESTATION_TYPES.SolvencyAttestation.map(
  (f) => [f.name, f.type] as const,
);
const MAX_BY_KIND = { uint64: UINT64_MAX, uint256: UINT256_MAX, uint32: RATIO_BPS_MAX } as const;

/** `keccak256(utf8(issuerId))`, the §5 `issuer` field. */
export function issuerKey(issuerId: string): Hex {
  if (typeof issuerId !== "string" || issuerId === "")
    fail("INVALID_ARGUMENT", "issuerId", "must be a non-empty string");
  return keccak256(utf8(issuerId));
}

function parseBytes32(value: unknown, field: string): Hex {
  if (typeof value !== "string") fail("INVALID_BYTES", field, "must be a 0x hex string");
  hexToBytes(value, field, 32);
  if (value !== value.toLowerCase()) fail("INVALID_BYTES", field, "must be lowercase hex");
  return value as Hex;
}

/** Checks an in-memory attestation field by field so out-of-range values never reach the signer. */
export function assertAttestation(a: Attestation): void {
  for (const [name, kind] of FIELD_KINDS) {
    const field = `attestation.${name}`;
    const value: unknown = a[name];
    if (kind === "bytes32") {
      parseBytes32(value, field);
    } else if (kind === "uint32") {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > Number(RATIO_BPS_MAX)) {
        fail("OUT_OF_RANGE", field, `${String(value)} is not a uint32`);
      }
    } else if (typeof value !== "bigint" || value < 0n || value > MAX_BY_KIND[kind]) {
      fail("OUT_OF_RANGE", field, `${String(value)} is not a ${kind}`);
    }
  }
}

export function attestationToJson(a: Attestation): AttestationJson {
  assertAttestation(a);
  const out = {} as AttestationJson;
  for (const [name, _kind] of FIELD_KINDS) out[name] = String(a[name]);
  return out;
}

/** Strict §10 parse: every field present, nothing extra, numbers in range, bytes32 exactly 32 bytes. */
export function attestationFromJson(json: unknown): Attestation {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail("INVALID_DOCUMENT", "attestation", "must be a JSON object");
  }
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!FIELD_KINDS.some(([name]) => name === key))
      fail("INVALID_DOCUMENT", `attestation.${key}`, "is not a SPEC §5 field");
  }
  const out: Record<string, unknown> = {};
  for (const [name, kind] of FIELD_KINDS) {
    const field = `attestation.${name}`;
    if (!(name in obj)) fail("INVALID_DOCUMENT", field, "is missing");
    const value = obj[name];
    if (kind === "bytes32") out[name] = parseBytes32(value, field);
    else if (kind === "uint32") out[name] = Number(parseAmount(value, field, RATIO_BPS_MAX));
    else out[name] = parseAmount(value, field, MAX_BY_KIND[kind]);
  }
  return out as unknown as Attestation;
}

function typedData(a: Attestation) {
  assertAttestation(a);
  return {
    domain: ATTESTATION_DOMAIN,
    types: ATTESTATION_TYPES,
    primaryType: "SolvencyAttestation",
    message: a,
  } as const;
}

/** The EIP-712 digest that is signed and that the next attestation's `previous` commits to. */
export function attestationDigest(a: Attestation): Hex {
  return hashTypedData(typedData(a));
}

export async function signAttestation(a: Attestation, account: LocalAccount): Promise<Hex> {
  return account.signTypedData(typedData(a));
}

/** 65 bytes, r and s in range, low-s (SPEC §9: every signature; a high-s twin is refused, never normalised). */
function assertSignatureShape(signature: string): void {
  assertLowS(signature, "signature");
}

export async function recoverAttestationSigner(a: Attestation, signature: Hex): Promise<Address> {
  assertSignatureShape(signature);
  try {
    return await recoverTypedDataAddress({ ...typedData(a), signature });
  } catch (error) {
    if (error instanceof SolventError) throw error;
    fail(
      "INVALID_SIGNATURE",
      "signature",
      `does not recover to a public key: ${(error as Error).message.split("\n")[0]}`,
    );
  }
}

export type AttestationFields = Omit<Attestation, "sequence" | "previous">;

/**
 * Builds the attestation that follows `previous` in the issuer's hash chain:
 * sequence 1 with a zero `previous` when there is none, otherwise
 * `previous.sequence + 1` committing to the prior digest.
 */
export function nextAttestation(previous: Attestation | null, fields: AttestationFields): Attestation {
  const next: Attestation =
    previous === null
      ? { ...fields, sequence: 1n, previous: ZERO_HASH }
      : { ...fields, sequence: previous.sequence + 1n, previous: attestationDigest(previous) };
  const reasons = checkChainLink(previous, next);
  if (reasons.length > 0) fail("INVALID_ARGUMENT", `attestation ${next.sequence}`, reasons.join("; "));
  return next;
}

/** Every way `next` fails to follow `previous` (null: `next` must be the first). Empty means the link holds. */
export function checkChainLink(previous: Attestation | null, next: Attestation): string[] {
  const reasons: string[] = [];
  if (previous === null) {
    if (next.sequence !== 1n)
      reasons.push(`sequence ${next.sequence} has no predecessor; the first attestation is sequence 1`);
    if (next.previous.toLowerCase() !== ZERO_HASH) reasons.push("the first attestation must have a zero previous hash");
    return reasons;
  }
  if (next.issuer.toLowerCase() !== previous.issuer.toLowerCase()) {
    reasons.push(`issuer ${next.issuer} differs from the previous attestation's issuer ${previous.issuer}`);
  }
  if (next.sequence !== previous.sequence + 1n) {
    reasons.push(`sequence ${next.sequence} does not follow ${previous.sequence} (expected ${previous.sequence + 1n})`);
  }
  const expected = attestationDigest(previous);
  if (next.previous.toLowerCase() !== expected) {
    reasons.push(`previous ${next.previous} is not the digest ${expected} of sequence ${previous.sequence}`);
  }
  if (next.observedAt < previous.observedAt) {
    reasons.push(`observedAt ${next.observedAt} goes back before the previous attestation's ${previous.observedAt}`);
  }
  return reasons;
}

export interface SignedAttestationCheck {
  ok: boolean;
  /** Recovered signer (checksummed), or null when the signature does not recover. */
  signer: Address | null;
  reasons: string[];
}

/** Recovers the signer and requires the keys document to list it as valid at `observedAt` (SPEC §7). */
export async function verifySignedAttestation(params: {
  attestation: Attestation;
  signature: Hex;
  keys: KeysDocument;
}): Promise<SignedAttestationCheck> {
  const { attestation, signature, keys } = params;
  let signer: Address;
  try {
    signer = await recoverAttestationSigner(attestation, signature);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, signer: null, reasons: [reason] };
  }
  if (!keyValidAt(keys, signer, attestation.observedAt)) {
    return {
      ok: false,
      signer,
      reasons: [`signer ${signer} is not a key valid at observedAt ${attestation.observedAt}`],
    };
  }
  return { ok: true, signer, reasons: [] };
}
