import { type Address, keccak256 } from "viem";
import {
  type Attestation,
  attestationDigest,
  attestationFromJson,
  issuerKey,
  recoverAttestationSigner,
} from "../../core/attestation.js";
import type { Hex } from "../../core/bytes.js";
import type { IssuerConfig, LookThroughConfig } from "../../core/config/schema.js";
import { circularPath, lookThroughGraph, lookThroughName } from "../../core/valuation/lookThrough.js";
import type { AttestedRatio, AttestedTokenReading, Reading } from "../../core/valuation/readings.js";
import type { FetchFn } from "./fetchHttpPrice.js";

/** An attestation of this deployment as stored (worker/storage/attestationStore.ts), handed in by the tick. */
export interface LocalAttestation {
  attestation: Attestation;
  signature: Hex;
  /** The signer stored with it; the signature must recover to it. */
  signer: Hex;
}

/** The latest attestation of a local issuer, or null when it has none yet. */
export type LocalAttestationFn = (issuerId: string) => Promise<LocalAttestation | null>;

export interface ReadAttestedTokensParameters {
  issuer: IssuerConfig;
  /** Every issuer of the deployment: the local look-through graph is built from them. */
  issuers: readonly IssuerConfig[];
  /** Reads a local issuer's latest attestation (from D1 in the Worker). */
  localAttestation?: LocalAttestationFn;
  /** For external publishers. */
  fetchFn: FetchFn;
  /** Per HTTP request; default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 5_000_000;
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Distinct look-through references of the issuer's holdings, in configuration order (its own token is left to valuation). */
function references(issuer: IssuerConfig): LookThroughConfig[] {
  const out: LookThroughConfig[] = [];
  for (const holder of issuer.reserves.holders) {
    for (const h of holder.holdings) {
      const look = h.type === "erc20" ? h.lookThrough : undefined;
      if (!look || (look.url === undefined && look.issuer === issuer.id)) continue;
      if (!out.some((o) => o.issuer === look.issuer && o.url === look.url)) out.push(look);
    }
  }
  return out;
}

/**
 * The latest attestation behind every look-through holding of `issuer`: a
 * local issuer's from `localAttestation`, an external publisher's from
 * `{url}/v1/issuers/{id}/attestations/latest`, whose EIP-712 signature must
 * recover to the configured signer. Circularity: local, from the
 * configuration graph; external, one level deep (their latest report, checked
 * against its signed reportHash, lists a holding of our liability token).
 * Freshness is left to valuation, which compares validUntil with observedAt.
 *
 * @example
 * const attested = await readAttestedTokens({ issuer, issuers: config.issuers, localAttestation, fetchFn: fetch });
 */
export async function readAttestedTokens(parameters: ReadAttestedTokensParameters): Promise<AttestedTokenReading[]> {
  const { issuer } = parameters;
  const graph = lookThroughGraph(
    parameters.issuers.some((i) => i.id === issuer.id) ? parameters.issuers : [...parameters.issuers, issuer],
  );
  return Promise.all(
    references(issuer).map(async (look): Promise<AttestedTokenReading> => {
      if (look.url === undefined || look.signer === undefined) {
        return {
          issuer: look.issuer,
          url: null,
          circular: circularPath(graph, issuer.id, look.issuer),
          result: await readLocal(parameters, look.issuer),
        };
      }
      const { result, holdsOurToken } = await readExternal(parameters, look.issuer, look.url, look.signer);
      return {
        issuer: look.issuer,
        url: look.url,
        circular: holdsOurToken ? [issuer.id, lookThroughName(look), issuer.id] : null,
        result,
      };
    }),
  );
}

function ratioOf(a: Attestation, signer: Address): AttestedRatio {
  return {
    sequence: a.sequence,
    observedAt: a.observedAt,
    validUntil: a.validUntil,
    ratioBps: a.ratioBps,
    flags: a.flags,
    digest: attestationDigest(a),
    signer,
  };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!;

async function readLocal(parameters: ReadAttestedTokensParameters, issuerId: string): Promise<Reading<AttestedRatio>> {
  if (!parameters.localAttestation)
    return { ok: false, reason: `no attestation store was given to read issuer ${issuerId}` };
  let stored: LocalAttestation | null;
  try {
    stored = await parameters.localAttestation(issuerId);
  } catch (error) {
    return { ok: false, reason: `reading the latest attestation of ${issuerId} failed: ${message(error)}` };
  }
  if (!stored) return { ok: false, reason: `issuer ${issuerId} has no attestation yet` };
  return checkSigned(issuerId, stored.attestation, stored.signature, stored.signer);
}

async function checkSigned(
  issuerId: string,
  attestation: Attestation,
  signature: Hex,
  expectedSigner: string,
): Promise<Reading<AttestedRatio>> {
  if (attestation.issuer.toLowerCase() !== issuerKey(issuerId))
    return { ok: false, reason: `the attestation is not about issuer ${issuerId}` };
  let signer: Address;
  try {
    signer = await recoverAttestationSigner(attestation, signature);
  } catch (error) {
    return {
      ok: false,
      reason: `signature of ${issuerId} sequence ${attestation.sequence} does not verify: ${message(error)}`,
    };
  }
  if (signer.toLowerCase() !== expectedSigner.toLowerCase()) {
    return {
      ok: false,
      reason: `attestation ${attestation.sequence} of ${issuerId} is signed by ${signer}, not by the trusted signer ${expectedSigner}`,
    };
  }
  return { ok: true, value: ratioOf(attestation, signer) };
}

/** The exact bytes of an answer (a report is hashed as served). */
async function getBytes(parameters: ReadAttestedTokensParameters, url: string): Promise<Reading<Uint8Array>> {
  const timeoutMs = parameters.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    const response = await parameters.fetchFn(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, reason: `HTTP ${response.status} from ${url}` };
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > MAX_BODY_BYTES)
      return { ok: false, reason: `answer from ${url} is over ${MAX_BODY_BYTES} bytes` };
    return { ok: true, value: bytes };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === "TimeoutError" || name === "AbortError")
      return { ok: false, reason: `no answer from ${url} within ${timeoutMs} ms` };
    return { ok: false, reason: `request to ${url} failed: ${message(error)}` };
  }
}

async function readExternal(
  parameters: ReadAttestedTokensParameters,
  issuerId: string,
  baseUrl: string,
  trustedSigner: string,
): Promise<{ result: Reading<AttestedRatio>; holdsOurToken: boolean }> {
  const failed = (reason: string) => ({ result: { ok: false as const, reason }, holdsOurToken: false });
  const base = `${baseUrl.replace(/\/+$/, "")}/v1/issuers/${encodeURIComponent(issuerId)}`;
  const latest = await getBytes(parameters, `${base}/attestations/latest`);
  if (!latest.ok) return failed(latest.reason);
  let attestation: Attestation;
  let signature: Hex;
  try {
    const body = JSON.parse(decode(latest.value)) as { attestation?: unknown; signature?: unknown };
    attestation = attestationFromJson(body.attestation);
    if (typeof body.signature !== "string") return failed(`the answer of ${base}/attestations/latest has no signature`);
    signature = body.signature as Hex;
  } catch (error) {
    return failed(`the answer of ${base}/attestations/latest is not a SPEC §10 attestation: ${message(error)}`);
  }
  const result = await checkSigned(issuerId, attestation, signature, trustedSigner);
  if (!result.ok) return { result, holdsOurToken: false };

  const ours = parameters.issuer.liabilities.supply?.tokens ?? [];
  if (ours.length === 0) return { result, holdsOurToken: false };
  const reportUrl = `${base}/reports/${attestation.sequence}`;
  const report = await getBytes(parameters, reportUrl);
  if (!report.ok) return failed(`its report could not be checked for holdings of our token: ${report.reason}`);
  if (keccak256(report.value) !== attestation.reportHash.toLowerCase()) {
    return failed(`the report at ${reportUrl} does not hash to the signed reportHash`);
  }
  let items: unknown[];
  try {
    const json = JSON.parse(decode(report.value)) as { reserves?: { items?: unknown } };
    if (!Array.isArray(json.reserves?.items)) return failed(`the report at ${reportUrl} has no reserves.items`);
    items = json.reserves.items;
  } catch (error) {
    return failed(`the report at ${reportUrl} is not JSON: ${message(error)}`);
  }
  const holdsOurToken = items.some((raw) => {
    const item = raw as { chainId?: unknown; token?: unknown };
    return ours.some(
      (t) =>
        item.chainId === String(t.chainId) &&
        typeof item.token === "string" &&
        item.token.toLowerCase() === t.token.toLowerCase(),
    );
  });
  return { result, holdsOurToken };
}
