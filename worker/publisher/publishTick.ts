import type { PrivateKeyAccount } from "viem/accounts";
import {
  type Attestation,
  attestationDigest,
  issuerKey,
  nextAttestation,
  signAttestation,
} from "../../core/attestation.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { keyValidAt } from "../../core/keysDocument.js";
import { buildReport } from "../../core/report.js";
import type { ReservesPoint } from "../../core/valuation/riskFlags.js";
import { valueSnapshot } from "../../core/valuation/snapshot.js";
import { signingAccount } from "../config/secrets.js";
import { withStandingDisputes } from "../disputes/disputeStore.js";
import type { Env } from "../env.js";
import { latestCompleteLedger } from "../ledger/ledgerLifecycle.js";
import type { RelayMessage } from "../relayer/relayAttestation.js";
import { gatherReadings } from "../sources/gatherReadings.js";
import {
  attestationPage,
  insertAttestation,
  latestAttestation,
  SequenceTakenError,
  type StoredAttestation,
} from "../storage/attestationStore.js";
import { putReport } from "../storage/reportStore.js";
import { ensureSigningKey } from "../storage/signingKeys.js";
import { latestStatements } from "../storage/statementStore.js";

/** What one publish attempt did; never a half state. */
export type PublishOutcome =
  | {
      published: true;
      issuerId: string;
      sequence: string;
      digest: string;
      ratioBps: number;
      flags: string[];
      relay: string;
    }
  | { published: false; issuerId: string; reason: string; code: "NOT_PUBLISHED" | "SEQUENCE_TAKEN" | "MISCONFIGURED" };

/**
 * What a successful publish computed, handed to the alerts so they need not
 * read back what was just written: the stored row, the one it follows, and
 * the reason of every raised flag (the report's, from the same snapshot).
 */
export interface PublishedFacts {
  stored: StoredAttestation;
  previous: StoredAttestation | null;
  reasons: ReadonlyMap<string, string>;
}

export interface PublishDeps {
  env: Env;
  config: SolventConfig;
  issuerId: string;
  /** Unix seconds; the moment the data is read (observedAt). */
  now: bigint;
  fetchFn?: typeof fetch;
}

/**
 * One tick for one issuer: read, value, report, sign, store. Publishes at most
 * one attestation, the next in the issuer's hash chain. Anything that would
 * make the published numbers wrong (liabilities that cannot be valued, a
 * missing key) publishes nothing and says why; a reserve source that fails
 * only excludes its items and raises STALE_SOURCE.
 *
 * The caller serialises calls per issuer (IssuerPublisher); the D1 primary key
 * on (issuer, sequence) is the second guard: a racing writer loses cleanly.
 */
export async function publishTick(deps: PublishDeps): Promise<PublishOutcome> {
  return (await publishTickWithFacts(deps)).outcome;
}

/** publishTick, with what it computed when it published (null otherwise), for the alerts (IssuerPublisher). */
export async function publishTickWithFacts(
  deps: PublishDeps,
): Promise<{ outcome: PublishOutcome; published: PublishedFacts | null }> {
  const result = await publishOnce(deps);
  if (!result.published) return { outcome: result, published: null };
  const { facts, ...outcome } = result;
  return { outcome, published: facts };
}

type Published = Extract<PublishOutcome, { published: true }>;

async function publishOnce({
  env,
  config,
  issuerId,
  now,
  fetchFn = fetch,
}: PublishDeps): Promise<Exclude<PublishOutcome, Published> | (Published & { facts: PublishedFacts })> {
  const issuer = config.issuers.find((i) => i.id === issuerId);
  if (!issuer)
    return { published: false, issuerId, code: "MISCONFIGURED", reason: `issuer "${issuerId}" is not configured` };
  let signer: PrivateKeyAccount;
  try {
    signer = signingAccount(env);
  } catch (e) {
    return { published: false, issuerId, code: "MISCONFIGURED", reason: (e as Error).message };
  }

  const previous = await latestAttestation(env.DB, issuerId);
  const ledger = await withStandingDisputes(
    env.DB,
    issuerId,
    issuer.liabilities.ledger ? await latestCompleteLedger(env.DB, issuerId) : null,
  );
  // Nothing to attest until a ledger exists: say so before spending any RPC or price request.
  if (issuer.liabilities.ledger && !ledger) {
    return {
      published: false,
      issuerId,
      code: "NOT_PUBLISHED",
      reason: "no complete liabilities ledger has been uploaded yet",
    };
  }
  const statements = await latestStatements(env.DB, issuerId);
  const readings = await gatherReadings({
    issuer,
    chains: config.chains,
    secrets: env,
    statements: statements.map((s) => ({ statement: s.statement, signature: s.signature })),
    ledger,
    now,
    fetchFn,
    issuers: config.issuers,
    localAttestation: async (id) => {
      const stored = await latestAttestation(env.DB, id);
      return stored && { attestation: stored.attestation, signature: stored.signature, signer: stored.signer };
    },
  });
  const history = previous
    ? await reservesHistory(env.DB, issuerId, now - BigInt(issuer.policy.reserveDropWindowSeconds))
    : [];

  const valued = valueSnapshot({ issuer, readings, previous: previous?.attestation ?? null, history });
  if (!valued.ok) return { published: false, issuerId, code: "NOT_PUBLISHED", reason: valued.reason };
  const { snapshot } = valued;

  const sequence = (previous?.attestation.sequence ?? 0n) + 1n;
  const observedAt = readings.observedAt;
  const validUntil = observedAt + BigInt(issuer.policy.ttlSeconds);
  const report = buildReport(snapshot, {
    issuerId,
    sequence,
    observedAt,
    validUntil,
    policy: issuer.policy,
    blocks: readings.blocks,
  });
  const attestation: Attestation = nextAttestation(previous?.attestation ?? null, {
    issuer: issuerKey(issuerId),
    observedAt,
    validUntil,
    reservesUsd: snapshot.totals.reservesUsd,
    onchainReservesUsd: snapshot.totals.onchainReservesUsd,
    offchainReservesUsd: snapshot.totals.offchainReservesUsd,
    liabilitiesUsd: snapshot.totals.liabilitiesUsd,
    ratioBps: snapshot.totals.ratioBps,
    reservesRoot: snapshot.reservesRoot,
    liabilitiesRoot: snapshot.liabilitiesRoot,
    flags: snapshot.flagBits,
    reportHash: report.reportHash,
  });
  const signature = await signAttestation(attestation, signer);

  // The key must be listed as valid at observedAt before anything refers to it.
  const keys = await ensureSigningKey(env.DB, signer.address, Number(observedAt));
  // An open key registered after observedAt (a publisher clock behind the one that registered it)
  // would sign an attestation no verifier accepts: publish nothing instead.
  if (!keyValidAt(keys, signer.address, observedAt)) {
    return {
      published: false,
      issuerId,
      code: "NOT_PUBLISHED",
      reason: `observedAt ${observedAt} is before the signing key ${signer.address} became valid; is the publisher's clock behind?`,
    };
  }
  // Report bytes first (content-addressed, idempotent), then the D1 row, which is the commit point.
  const reportKey = await putReport(env.BUCKET, issuerId, report.bytes, report.reportHash);
  const stored: StoredAttestation = {
    issuerId,
    attestation,
    digest: attestationDigest(attestation),
    signature,
    signer: signer.address.toLowerCase() as `0x${string}`,
    reportKey,
    reportHash: report.reportHash,
    ledgerId: ledger?.ledgerId ?? null,
    publishedAt: Math.floor(Date.now() / 1000),
  };
  try {
    await insertAttestation(env.DB, stored);
  } catch (e) {
    if (e instanceof SequenceTakenError) {
      return { published: false, issuerId, code: "SEQUENCE_TAKEN", reason: e.message };
    }
    throw e;
  }
  return {
    published: true,
    issuerId,
    sequence: sequence.toString(),
    digest: stored.digest,
    ratioBps: snapshot.totals.ratioBps,
    flags: snapshot.flags.map((f) => f.name),
    relay: issuer.relayer ? await queueRelay(env, issuerId, sequence) : "none",
    facts: { stored, previous, reasons: new Map(snapshot.flags.map((f) => [f.name, f.reason])) },
  };
}

/**
 * Hands the attestation to the relayer queue. Publishing never waits for the
 * chain and never fails because of it: the attestation is already committed.
 */
async function queueRelay(env: Env, issuerId: string, sequence: bigint): Promise<string> {
  try {
    await env.RELAY_QUEUE.send({ kind: "relay", issuerId, sequence: sequence.toString() } satisfies RelayMessage);
    return "queued";
  } catch (e) {
    console.error(`relay of ${issuerId} #${sequence} could not be queued`, e);
    return `not queued: ${(e as Error).message}`;
  }
}

const HISTORY_PAGE = 500;
const HISTORY_MAX = 10_000;

/** The issuer's attestations observed at or after `since`, newest first (at most HISTORY_MAX), for RESERVE_DROP's window. */
async function reservesHistory(db: D1Database, issuerId: string, since: bigint): Promise<ReservesPoint[]> {
  const out: ReservesPoint[] = [];
  let before: bigint | undefined;
  while (out.length < HISTORY_MAX) {
    const page = await attestationPage(db, issuerId, { before, limit: HISTORY_PAGE });
    for (const { attestation: a } of page.attestations) {
      if (a.observedAt < since) return out;
      out.push({ sequence: a.sequence, observedAt: a.observedAt, reservesUsd: a.reservesUsd });
    }
    if (page.nextBefore === null) return out;
    before = page.nextBefore;
  }
  return out;
}
