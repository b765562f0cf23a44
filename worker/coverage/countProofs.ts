import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../api/context.js";
import { recordProofServed } from "./coverageStore.js";

/** `/v1/issuers/{issuer}/proofs/{sequence}/{commitment}`, with a sequence the store can hold (below 2^53). */
const PROOF_PATH = /^\/v1\/issuers\/([^/]+)\/proofs\/([1-9][0-9]{0,15})\/(0x[0-9a-fA-F]{64})$/;

/** Proofs this isolate already recorded: a repeated fetch costs no D1 request at all. Bounded; cleared when full. */
const recorded = new Set<string>();
const MAX_REMEMBERED = 20_000;

export interface ServedProof {
  issuerId: string;
  sequence: number;
  /** Lower-case, as stored. */
  commitment: string;
}

/** The proof a request path asks for, or null when it is not a proof path. */
export function servedProof(path: string): ServedProof | null {
  const match = PROOF_PATH.exec(path);
  if (match === null) return null;
  const sequence = Number(match[2]);
  if (!Number.isSafeInteger(sequence)) return null;
  let issuerId: string;
  try {
    issuerId = decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
  return { issuerId, sequence, commitment: match[3]!.toLowerCase() };
}

/**
 * Counts verification coverage (issue #17): every inclusion proof served (a
 * GET answered 200 on a proof path) records its commitment for the ledger of
 * that attestation. Mounted outside the edge cache, so an answer served from
 * the cache counts like a computed one; a refusal (429), an error or an
 * absent commitment (404) counts nothing, so made-up commitments cannot
 * inflate the figure. Only the path and the status are read: never the
 * client's address, a header or the time. The write runs after the answer
 * (waitUntil) and its failure is logged, never shown to the user.
 */
export function countProofs(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method !== "GET" || c.res.status !== 200) return;
    const proof = servedProof(c.req.path);
    if (proof === null) return;
    const key = `${proof.issuerId}\n${proof.sequence}\n${proof.commitment}`;
    if (recorded.has(key)) return;
    const write = recordProofServed(c.env.DB, proof.issuerId, proof.sequence, proof.commitment).then(
      () => {
        if (recorded.size >= MAX_REMEMBERED) recorded.clear();
        recorded.add(key);
      },
      (error: unknown) => console.warn("coverage: the served proof was not counted", error),
    );
    try {
      c.executionCtx.waitUntil(write);
    } catch {
      await write; // no execution context (app.request in a test): count before answering
    }
  };
}
