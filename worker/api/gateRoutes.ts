import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { attestationToJson, type Attestation } from "../../core/attestation.js";
import { echo } from "../../core/errors.js";
import { DEFINED_FLAGS_MASK, FLAGS, isFlagName } from "../../core/flags.js";
import { RATIO_BPS_MAX } from "../../core/numbers.js";
import { latestAttestation, type StoredAttestation } from "../storage/attestationStore.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";
import { NO_STORE, publicApi } from "./openapi.js";
import { AttestationJson, commonErrors, decimalParam, errorResponse, IssuerParams } from "./schemas.js";

/** Defaults of the gate's criteria (documented in the OpenAPI document). */
export const DEFAULT_MIN_RATIO_BPS = 10000n;
/** An observedAt further ahead of the gate's clock than this is not trusted. */
export const FUTURE_TOLERANCE_SECONDS = 60n;
const MAX_AGE_LIMIT = 4294967295n;

export const GATE_REASON_CODES = [
  "UNKNOWN_ISSUER",
  "NO_ATTESTATION",
  "EXPIRED",
  "TOO_OLD",
  "OBSERVED_IN_FUTURE",
  "RATIO_BELOW_MIN",
  "FLAG_DENIED",
  "UNKNOWN_FLAGS",
] as const;
export type GateReasonCode = (typeof GATE_REASON_CODES)[number];

export interface GateReason {
  code: GateReasonCode;
  message: string;
  /** FLAG_DENIED only: the SPEC §6 name of the denied flag. */
  flag?: string;
}

export interface GateCriteria {
  minRatioBps: bigint;
  maxAgeSeconds: bigint;
  denyFlags: bigint;
}

/**
 * Every reason `attestation` fails `criteria` at `now` (unix seconds); empty
 * means allow. Flag bits version 1 does not define fail closed.
 */
export function gateReasons(attestation: Attestation, criteria: GateCriteria, now: bigint): GateReason[] {
  const a = attestation;
  const reasons: GateReason[] = [];
  if (now > a.validUntil) {
    reasons.push({ code: "EXPIRED", message: `attestation ${a.sequence} expired at ${a.validUntil} (validUntil), ${now - a.validUntil} s ago` });
  }
  const age = now - a.observedAt;
  if (age > criteria.maxAgeSeconds) {
    reasons.push({ code: "TOO_OLD", message: `attestation ${a.sequence} is ${age} s old, above maxAgeSeconds ${criteria.maxAgeSeconds}` });
  }
  if (-age > FUTURE_TOLERANCE_SECONDS) {
    reasons.push({ code: "OBSERVED_IN_FUTURE", message: `attestation ${a.sequence} was observed ${-age} s after the gate's clock` });
  }
  if (BigInt(a.ratioBps) < criteria.minRatioBps) {
    reasons.push({ code: "RATIO_BELOW_MIN", message: `ratio ${a.ratioBps} bps is below the minimum ${criteria.minRatioBps}` });
  }
  for (const flag of FLAGS) {
    const bit = 1n << BigInt(flag.bit);
    if ((criteria.denyFlags & bit) !== 0n && (a.flags & bit) !== 0n) {
      reasons.push({ code: "FLAG_DENIED", flag: flag.name, message: `flag ${flag.name} (bit ${flag.bit}) is set: ${flag.meaning}` });
    }
  }
  const unknown = a.flags & ~DEFINED_FLAGS_MASK;
  if (unknown !== 0n) {
    reasons.push({ code: "UNKNOWN_FLAGS", message: `flag bits 0x${unknown.toString(16)} are not defined by SPEC §6 version 1` });
  }
  return reasons;
}

// ---- request ----------------------------------------------------------------

/** `denyFlags`: comma-separated SPEC §6 flag names and/or decimal bitmasks, ORed together. */
export function parseDenyFlags(text: string): { bits: bigint } | { error: string } {
  let bits = 0n;
  for (const raw of text.split(",")) {
    const token = raw.trim();
    if (token === "") return { error: text === "" ? "is empty" : "has an empty entry (expected names or bitmasks separated by commas)" };
    const name = token.toUpperCase();
    if (isFlagName(name)) {
      bits |= 1n << BigInt(FLAGS.find((f) => f.name === name)!.bit);
    } else if (/^(0|[1-9][0-9]{0,19})$/.test(token)) {
      const mask = BigInt(token);
      if ((mask & ~DEFINED_FLAGS_MASK) !== 0n) {
        return { error: `bitmask ${token} sets reserved bits (SPEC §6 version 1 defines bits 0-${FLAGS.length - 1}, at most ${DEFINED_FLAGS_MASK})` };
      }
      bits |= mask;
    } else {
      return { error: `"${echo(token, 40)}" is neither a SPEC §6 flag name (${FLAGS.map((f) => f.name).join(", ")}) nor a decimal bitmask` };
    }
  }
  return { bits };
}

const DenyFlags = z
  .string({ error: "must be given once" })
  .transform((text, ctx) => {
    const parsed = parseDenyFlags(text);
    if ("error" in parsed) {
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    }
    return parsed.bits;
  })
  .openapi({
    param: { name: "denyFlags", in: "query" },
    type: "string",
    description:
      "Flags that make the gate refuse, as SPEC §6 names and/or decimal bitmasks separated by commas, ORed together: " +
      "`UNDERCOLLATERALIZED,STALE_SOURCE`, `3`, or `3,UNPROVEN_OWNERSHIP`. Names: " +
      FLAGS.map((f) => `${f.name} (bit ${f.bit})`).join(", ") +
      ". Reserved bits (10-63) are refused. Default: none (`0`).",
    example: "STALE_SOURCE,UNPROVEN_OWNERSHIP",
  });

const GateQuery = z.object({
  minRatioBps: decimalParam({ min: 0n, max: RATIO_BPS_MAX })
    .optional()
    .openapi({
      param: { name: "minRatioBps", in: "query" },
      description: `Minimum ratioBps (reserves / liabilities in basis points), 0 to ${RATIO_BPS_MAX}. Default ${DEFAULT_MIN_RATIO_BPS} (fully backed).`,
      example: "10000",
    }),
  maxAgeSeconds: decimalParam({ min: 0n, max: MAX_AGE_LIMIT })
    .optional()
    .openapi({
      param: { name: "maxAgeSeconds", in: "query" },
      description: `Maximum age (now - observedAt) in seconds, 0 to ${MAX_AGE_LIMIT}. Default: the issuer's ttlSeconds (validUntil - observedAt).`,
      example: "600",
    }),
  denyFlags: DenyFlags.optional(),
});

// ---- response ---------------------------------------------------------------

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);

const GateReasonSchema = z
  .object({
    code: z.enum(GATE_REASON_CODES).openapi({
      description: [
        "UNKNOWN_ISSUER: the issuer is not published here.",
        "NO_ATTESTATION: the issuer has published nothing yet.",
        "EXPIRED: now > validUntil.",
        "TOO_OLD: now - observedAt > maxAgeSeconds.",
        `OBSERVED_IN_FUTURE: observedAt is more than ${FUTURE_TOLERANCE_SECONDS} s ahead of the gate's clock.`,
        "RATIO_BELOW_MIN: ratioBps < minRatioBps.",
        "FLAG_DENIED: a flag listed in denyFlags is set (one reason per flag; `flag` names it).",
        "UNKNOWN_FLAGS: the attestation sets flag bits SPEC §6 version 1 does not define.",
      ].join(" "),
    }),
    message: z.string().openapi({ example: "ratio 9800 bps is below the minimum 10000" }),
    flag: z.string().optional().openapi({ description: "FLAG_DENIED only: the flag's SPEC §6 name.", example: "STALE_SOURCE" }),
  })
  .openapi("GateReason", { description: "One failed condition: a stable machine code and a human sentence." });

export const GateAnswer = z
  .object({
    allow: z.boolean().openapi({ description: "True only when an attestation exists and no reason applies.", example: true }),
    reasons: z.array(GateReasonSchema).openapi({ description: "Every failed condition; empty exactly when allow is true.", example: [] }),
    issuer: z.string().openapi({ example: "demo-stable" }),
    evaluatedAt: decimal.openapi({ description: "The gate's clock (unix seconds) the answer was computed at.", example: "1767225630" }),
    criteria: z
      .object({
        minRatioBps: decimal,
        maxAgeSeconds: decimal.nullable().openapi({ description: "null only for an unknown issuer without an explicit maxAgeSeconds" }),
        denyFlags: decimal.openapi({ description: "the denied flags as one bitmask" }),
      })
      .openapi({ description: "The criteria applied, defaults filled in.", example: { minRatioBps: "10000", maxAgeSeconds: "3600", denyFlags: "0" } }),
    sequence: decimal.nullable().openapi({ example: "42" }),
    ratioBps: decimal.nullable().openapi({ example: "12500" }),
    flags: decimal.nullable().openapi({ example: "0" }),
    ageSeconds: decimal.nullable().openapi({ description: "now - observedAt, floored at 0", example: "30" }),
    attestation: AttestationJson.nullable(),
    signature: z.string().nullable().openapi({ description: "65-byte signature over the attestation's EIP-712 digest", example: `0x${"cd".repeat(65)}` }),
    digest: z.string().nullable().openapi({ example: `0x${"ab".repeat(32)}` }),
    signer: z.string().nullable().openapi({ example: `0x${"12".repeat(20)}` }),
  })
  .openapi("GateAnswer", {
    description:
      "The gate's decision with the signed attestation it was made on, so the caller can verify it (SPEC §5, §7). Numbers as decimal strings; the attestation fields are null when there is none.",
  });

type GateAnswerJson = z.infer<typeof GateAnswer>;

function answer(
  issuer: string,
  now: bigint,
  criteria: { minRatioBps: bigint; maxAgeSeconds: bigint | null; denyFlags: bigint },
  stored: StoredAttestation | null,
  reasons: GateReason[],
): GateAnswerJson {
  const a = stored?.attestation;
  return {
    allow: stored !== null && reasons.length === 0,
    reasons,
    issuer,
    evaluatedAt: now.toString(),
    criteria: {
      minRatioBps: criteria.minRatioBps.toString(),
      maxAgeSeconds: criteria.maxAgeSeconds === null ? null : criteria.maxAgeSeconds.toString(),
      denyFlags: criteria.denyFlags.toString(),
    },
    sequence: a ? a.sequence.toString() : null,
    ratioBps: a ? a.ratioBps.toString() : null,
    flags: a ? a.flags.toString() : null,
    ageSeconds: a ? (now > a.observedAt ? now - a.observedAt : 0n).toString() : null,
    attestation: a ? attestationToJson(a) : null,
    signature: stored?.signature ?? null,
    digest: stored?.digest ?? null,
    signer: stored?.signer ?? null,
  };
}

const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.header("Cache-Control", NO_STORE);
  await next();
};

/**
 * SPEC §10 `GET /v1/issuers/{issuer}/gate`: may a lending market accept the
 * issuer's token right now? Fails closed: an unknown issuer or a missing
 * attestation is `allow: false` with a reason, a storage failure is 503, and
 * nothing but a fresh, valid attestation meeting every criterion allows.
 */
export const gateRoutes = publicApi(["/v1/issuers/:issuer/gate"]);

gateRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/gate",
    middleware: [noStore] as const,
    tags: ["integration"],
    summary: "Lending gate",
    description:
      "Decides whether the issuer's latest attestation meets the caller's criteria now. `allow` is true only when an attestation exists, " +
      "now <= validUntil, now - observedAt <= maxAgeSeconds, ratioBps >= minRatioBps and none of denyFlags is set. Every failed condition is " +
      "listed in `reasons`. An unknown issuer or one without attestations is answered 200 with `allow: false`; any status other than 200 " +
      "never means allow. The answer depends on the clock: `Cache-Control: no-store`.",
    request: { params: IssuerParams, query: GateQuery },
    responses: {
      200: {
        description: "The decision, with the signed attestation it rests on.",
        headers: { "Cache-Control": { schema: { type: "string", example: NO_STORE }, description: NO_STORE } },
        content: { "application/json": { schema: GateAnswer } },
      },
      ...commonErrors,
      503: errorResponse("UNAVAILABLE: the attestation store could not be read; treat as not allowed."),
    },
  }),
  async (c) => {
    const { issuer: issuerId } = c.req.valid("param");
    const query = c.req.valid("query");
    const now = BigInt(Math.floor(Date.now() / 1000));
    const issuer = c.var.config.issuers.find((i) => i.id === issuerId);
    const minRatioBps = query.minRatioBps ?? DEFAULT_MIN_RATIO_BPS;
    const denyFlags = query.denyFlags ?? 0n;
    if (!issuer) {
      const criteria = { minRatioBps, maxAgeSeconds: query.maxAgeSeconds ?? null, denyFlags };
      // The id comes from the path: echoed bounded, never in full.
      const reason: GateReason = { code: "UNKNOWN_ISSUER", message: `issuer "${echo(issuerId)}" is not published here` };
      return c.json(answer(echo(issuerId), now, criteria, null, [reason]), 200);
    }
    const criteria = { minRatioBps, maxAgeSeconds: query.maxAgeSeconds ?? BigInt(issuer.policy.ttlSeconds), denyFlags };
    let stored: StoredAttestation | null;
    try {
      stored = await latestAttestation(c.env.DB, issuer.id);
    } catch (error) {
      console.error("gate: reading the latest attestation failed", issuer.id, error);
      throw new ApiError("UNAVAILABLE", "the attestation store could not be read; the gate does not allow", { allow: false });
    }
    if (stored === null) {
      const reason: GateReason = { code: "NO_ATTESTATION", message: `issuer "${issuer.id}" has not published an attestation yet` };
      return c.json(answer(issuer.id, now, criteria, null, [reason]), 200);
    }
    return c.json(answer(issuer.id, now, criteria, stored, gateReasons(stored.attestation, criteria, now)), 200);
  },
);
