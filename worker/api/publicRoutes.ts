import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import { z } from "zod";
import { attestationToJson } from "../../core/attestation.js";
import type { IssuerConfig } from "../../core/config/schema.js";
import { UINT64_MAX } from "../../core/numbers.js";
import {
  attestationBySequence,
  attestationPage,
  issuerSummaries,
  latestAttestation,
  type StoredAttestation,
} from "../storage/attestationStore.js";
import { getReport } from "../storage/reportStore.js";
import { keysDocument } from "../storage/signingKeys.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/** A sequence never changes once published. */
export const IMMUTABLE_CACHE = "public, max-age=31536000, immutable";
/** Answers that move with every publish. */
export const SHORT_CACHE = "public, max-age=15";

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

const POSITIVE_DECIMAL = /^[1-9][0-9]*$/;

const sequenceParam = z
  .string()
  .regex(POSITIVE_DECIMAL, "must be a positive decimal integer without sign or leading zeros")
  .refine((s) => !POSITIVE_DECIMAL.test(s) || BigInt(s) <= UINT64_MAX, "must be at most 2^64 - 1")
  .transform((s) => BigInt(s));

const limitParam = z
  .string()
  .regex(POSITIVE_DECIMAL, "must be a positive decimal integer without sign or leading zeros")
  .refine((s) => !POSITIVE_DECIMAL.test(s) || (s.length <= 3 && Number(s) <= MAX_PAGE_LIMIT), `must be at most ${MAX_PAGE_LIMIT}`)
  .transform((s) => Number(s));

function parseParam<T>(schema: z.ZodType<T, string>, value: string | undefined, name: string): T {
  const result = schema.safeParse(value ?? "");
  if (!result.success) {
    const why = result.error.issues[0]?.message ?? "is invalid";
    throw new ApiError(400, "INVALID_PARAMETER", `${name} ${why}`, { parameter: name });
  }
  return result.data;
}

function configuredIssuer(c: Context<AppEnv>): IssuerConfig {
  const id = c.req.param("issuer") ?? "";
  const issuer = c.var.config.issuers.find((i) => i.id === id);
  if (!issuer) throw new ApiError(404, "UNKNOWN_ISSUER", `issuer "${id}" is not published here`);
  return issuer;
}

function reportUrl(c: Context<AppEnv>, issuerId: string, sequence: bigint): string {
  return `${new URL(c.req.url).origin}/v1/issuers/${encodeURIComponent(issuerId)}/reports/${sequence}`;
}

/** SPEC §10 attestation answer. */
function attestationBody(c: Context<AppEnv>, stored: StoredAttestation) {
  return {
    attestation: attestationToJson(stored.attestation),
    signature: stored.signature,
    digest: stored.digest,
    signer: stored.signer,
    reportUrl: reportUrl(c, stored.issuerId, stored.attestation.sequence),
  };
}

function noAttestation(issuerId: string, sequence?: bigint): never {
  const what = sequence === undefined ? "any attestation" : `attestation ${sequence}`;
  throw new ApiError(404, "NOT_FOUND", `issuer "${issuerId}" has no ${what} yet`);
}

/**
 * SPEC §10 read routes: public, cacheable, CORS-open. Mounted at `/`; the
 * CORS middleware is scoped to these paths so it never wraps admin routes.
 */
export const publicRoutes = new Hono<AppEnv>();

const openCors = cors({ origin: "*", allowMethods: ["GET", "HEAD", "OPTIONS"], maxAge: 86400 });
publicRoutes.use("/v1/issuers", openCors);
publicRoutes.use("/v1/issuers/*", openCors);
publicRoutes.use("/.well-known/solvent/*", openCors);

publicRoutes.get("/v1/issuers", async (c) => {
  const latest = new Map((await issuerSummaries(c.env.DB)).map((s) => [s.issuerId, s]));
  const issuers = c.var.config.issuers.map((issuer) => {
    const s = latest.get(issuer.id);
    return {
      id: issuer.id,
      name: issuer.name,
      sequence: s ? s.sequence.toString() : null,
      ratioBps: s ? s.ratioBps.toString() : null,
      flags: s ? s.flags.toString() : null,
      observedAt: s ? s.observedAt.toString() : null,
    };
  });
  c.header("Cache-Control", SHORT_CACHE);
  return c.json({ issuers });
});

publicRoutes.get("/v1/issuers/:issuer/attestations/latest", async (c) => {
  const issuer = configuredIssuer(c);
  const stored = await latestAttestation(c.env.DB, issuer.id);
  if (!stored) noAttestation(issuer.id);
  c.header("Cache-Control", SHORT_CACHE);
  return c.json(attestationBody(c, stored));
});

publicRoutes.get("/v1/issuers/:issuer/attestations/:sequence", async (c) => {
  const issuer = configuredIssuer(c);
  const sequence = parseParam(sequenceParam, c.req.param("sequence"), "sequence");
  const stored = await attestationBySequence(c.env.DB, issuer.id, sequence);
  if (!stored) noAttestation(issuer.id, sequence);
  c.header("Cache-Control", IMMUTABLE_CACHE);
  return c.json(attestationBody(c, stored));
});

publicRoutes.get("/v1/issuers/:issuer/attestations", async (c) => {
  const issuer = configuredIssuer(c);
  const beforeText = c.req.query("before");
  const limitText = c.req.query("limit");
  const before = beforeText === undefined ? undefined : parseParam(sequenceParam, beforeText, "before");
  const limit = limitText === undefined ? DEFAULT_PAGE_LIMIT : parseParam(limitParam, limitText, "limit");
  const page = await attestationPage(c.env.DB, issuer.id, { limit, ...(before === undefined ? {} : { before }) });
  c.header("Cache-Control", SHORT_CACHE);
  return c.json({
    issuer: issuer.id,
    attestations: page.attestations.map((a) => attestationBody(c, a)),
    nextBefore: page.nextBefore === null ? null : page.nextBefore.toString(),
  });
});

publicRoutes.get("/v1/issuers/:issuer/reports/:sequence", async (c) => {
  const issuer = configuredIssuer(c);
  const sequence = parseParam(sequenceParam, c.req.param("sequence"), "sequence");
  const stored = await attestationBySequence(c.env.DB, issuer.id, sequence);
  if (!stored) noAttestation(issuer.id, sequence);
  const bytes = await getReport(c.env.BUCKET, stored.reportKey);
  if (bytes === null) {
    console.error("report missing from R2", stored.reportKey);
    throw new ApiError(500, "INTERNAL", `the report of attestation ${sequence} is missing from storage`);
  }
  return c.body(bytes, 200, {
    "Content-Type": "application/json",
    "Cache-Control": IMMUTABLE_CACHE,
    ETag: `"${stored.reportHash}"`,
  });
});

publicRoutes.get("/.well-known/solvent/keys.json", async (c) => {
  const doc = await keysDocument(c.env.DB);
  c.header("Cache-Control", SHORT_CACHE);
  return c.json(doc);
});
