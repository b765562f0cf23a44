/**
 * The publisher's public API (SPEC §10), same origin as the page. Answers are
 * typed as they arrive; anything that gets verified goes through the core's
 * strict parsers first, so these types only describe, they do not vouch.
 */
import type { AttestationJson } from "../core/attestation.js";
import type { ReportJson } from "../core/report.js";
import type { CoverageEntryJson } from "./verificationCoverage.js";

export interface IssuerSummary {
  id: string;
  name: string;
  sequence: string | null;
  ratioBps: string | null;
  flags: string | null;
  observedAt: string | null;
}

export interface AttestationAnswer {
  attestation: AttestationJson;
  signature: string;
  digest: string;
  signer: string;
  reportUrl: string;
}

export interface HistoryPage {
  issuer: string;
  attestations: AttestationAnswer[];
  nextBefore: string | null;
}

export interface DemoUser {
  userId: string;
  salt: string;
  /** The demo issuer whose ledger lists the user ("demo" when the entry does not say). */
  issuer?: string;
}

/** A non-2xx answer, with the API's error code and message when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The parsed JSON body of the answer, when it had one (e.g. a 404 carrying a non-inclusion proof). */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function failure(res: Response): Promise<ApiError> {
  let code = "HTTP_ERROR";
  let message = `${res.status} ${res.statusText}`.trim();
  let body: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    // not a JSON error body; keep the status line
  }
  return new ApiError(res.status, code, message, body);
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: "application/json" } });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

const issuerPath = (id: string) => `/v1/issuers/${encodeURIComponent(id)}`;

export async function listIssuers(): Promise<IssuerSummary[]> {
  return (await getJson<{ issuers: IssuerSummary[] }>("/v1/issuers")).issuers;
}

/** The latest signed attestation, or null when the issuer has none yet. */
export async function latestAttestation(issuerId: string): Promise<AttestationAnswer | null> {
  try {
    return await getJson<AttestationAnswer>(`${issuerPath(issuerId)}/attestations/latest`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.code === "NOT_FOUND") return null;
    throw e;
  }
}

export function attestationAt(issuerId: string, sequence: bigint | string): Promise<AttestationAnswer> {
  return getJson<AttestationAnswer>(`${issuerPath(issuerId)}/attestations/${sequence}`);
}

/**
 * Up to `max` attestations, newest first, fetched a page of 100 at a time.
 * `truncated` says older ones exist that were not fetched.
 */
export async function attestationHistory(
  issuerId: string,
  max = 500,
): Promise<{ attestations: AttestationAnswer[]; truncated: boolean }> {
  const all: AttestationAnswer[] = [];
  let before: string | null = null;
  do {
    const query: string = before === null ? "limit=100" : `limit=100&before=${before}`;
    const page: HistoryPage = await getJson<HistoryPage>(`${issuerPath(issuerId)}/attestations?${query}`);
    all.push(...page.attestations);
    before = page.nextBefore;
  } while (before !== null && all.length < max);
  return { attestations: all, truncated: before !== null };
}

/** The report bytes exactly as served: they are what reportHash commits to. */
export async function reportBytes(issuerId: string, sequence: bigint | string): Promise<Uint8Array> {
  return reportBytesAt(`${issuerPath(issuerId)}/reports/${sequence}`);
}

export async function reportBytesAt(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw await failure(res);
  return new Uint8Array(await res.arrayBuffer());
}

export function parseReport(bytes: Uint8Array): ReportJson {
  return JSON.parse(new TextDecoder().decode(bytes)) as ReportJson;
}

/** Only the commitment goes into the URL; the user id and salt never leave the browser. */
export function inclusionProof(issuerId: string, sequence: bigint | string, commitment: string): Promise<unknown> {
  return getJson<unknown>(`${issuerPath(issuerId)}/proofs/${sequence}/${commitment}`);
}

export function keysDocument(): Promise<unknown> {
  return getJson<unknown>("/.well-known/solvent/keys.json");
}

/** The local demo's three users, or an empty list outside the demo. */
export async function demoUsers(): Promise<DemoUser[]> {
  try {
    const users = await getJson<unknown>("/demo/users.json");
    return Array.isArray(users)
      ? (users as DemoUser[]).filter((u) => typeof u?.userId === "string" && typeof u?.salt === "string")
      : [];
  } catch {
    return [];
  }
}

/** The relayer route's answer as it comes (page/onChain.ts reads it), or null when the publisher has none. */
export async function relayerStatus(issuerId: string): Promise<unknown> {
  try {
    return await getJson<unknown>(`${issuerPath(issuerId)}/relayer`);
  } catch {
    return null;
  }
}

/**
 * Walks a ledger-keyed listing (`ledgers` and `nextAfter`, newest asOf first)
 * a page of 100 at a time, at most `maxPages`, until `pick` finds something
 * or `past` says no later page can hold it.
 */
async function findInLedgerPages<E, T>(
  path: string,
  pick: (entries: E[]) => T | null,
  past: (entries: E[]) => boolean = () => false,
  maxPages = 5,
): Promise<T | null> {
  let after: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const query: string = after === null ? "limit=100" : `limit=100&after=${encodeURIComponent(after)}`;
    const answer: { ledgers: E[]; nextAfter: string | null } = await getJson(`${path}?${query}`);
    const found = pick(answer.ledgers);
    if (found !== null) return found;
    if (answer.nextAfter === null || past(answer.ledgers)) return null;
    after = answer.nextAfter;
  }
  return null;
}

/** The verification coverage of one ledger of the issuer (issue #17); null when the publisher lists none for it (never attested, or far back). */
export function ledgerCoverage(issuerId: string, ledgerId: string): Promise<CoverageEntryJson | null> {
  return findInLedgerPages<CoverageEntryJson, CoverageEntryJson>(
    `${issuerPath(issuerId)}/coverage`,
    (ledgers) => ledgers.find((l) => l.id === ledgerId) ?? null,
  );
}

/** The sequence of the newest attestation naming the issuer's ledger of `asOf`, or null when none does (from the ledger history). */
export function attestationOfAsOf(issuerId: string, asOf: bigint): Promise<string | null> {
  type Entry = { asOf: string; attested: { to: string } | null };
  return findInLedgerPages<Entry, string>(
    `${issuerPath(issuerId)}/ledgers`,
    (ledgers) => ledgers.find((l) => l.asOf === String(asOf) && l.attested !== null)?.attested?.to ?? null,
    // newest asOf first: once past the receipt's asOf, no later page has it
    (ledgers) => ledgers.some((l) => BigInt(l.asOf) < asOf),
  );
}
