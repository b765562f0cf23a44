import { z } from "@hono/zod-openapi";
import { attestationToJson } from "../../core/attestation.js";
import { FLAGS } from "../../core/flags.js";
import {
  DEFAULT_MIN_RATIO_BPS,
  FUTURE_TOLERANCE_SECONDS,
  GATE_REASON_CODES,
  type GateReason,
  parseDenyFlags,
} from "../../core/gatePolicy.js";
import { RATIO_BPS_MAX } from "../../core/numbers.js";
import type { StoredAttestation } from "../storage/attestationStore.js";
import { AttestationJson, decimalParam } from "./schemas.js";

/** The gate's query and answer (policy: core/gatePolicy.ts). */

const MAX_AGE_LIMIT = 4294967295n;

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

export const GateQuery = z.object({
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
    flag: z
      .string()
      .optional()
      .openapi({ description: "FLAG_DENIED only: the flag's SPEC §6 name.", example: "STALE_SOURCE" }),
  })
  .openapi("GateReason", { description: "One failed condition: a stable machine code and a human sentence." });

export const GateAnswer = z
  .object({
    allow: z
      .boolean()
      .openapi({ description: "True only when an attestation exists and no reason applies.", example: true }),
    reasons: z
      .array(GateReasonSchema)
      .openapi({ description: "Every failed condition; empty exactly when allow is true.", example: [] }),
    issuer: z.string().openapi({ example: "demo-stable" }),
    evaluatedAt: decimal.openapi({
      description: "The gate's clock (unix seconds) the answer was computed at.",
      example: "1767225630",
    }),
    criteria: z
      .object({
        minRatioBps: decimal,
        maxAgeSeconds: decimal
          .nullable()
          .openapi({ description: "null only for an unknown issuer without an explicit maxAgeSeconds" }),
        denyFlags: decimal.openapi({ description: "the denied flags as one bitmask" }),
      })
      .openapi({
        description: "The criteria applied, defaults filled in.",
        example: { minRatioBps: "10000", maxAgeSeconds: "3600", denyFlags: "0" },
      }),
    sequence: decimal.nullable().openapi({ example: "42" }),
    ratioBps: decimal.nullable().openapi({ example: "12500" }),
    flags: decimal.nullable().openapi({ example: "0" }),
    ageSeconds: decimal.nullable().openapi({ description: "now - observedAt, floored at 0", example: "30" }),
    attestation: AttestationJson.nullable(),
    signature: z
      .string()
      .nullable()
      .openapi({
        description: "65-byte signature over the attestation's EIP-712 digest",
        example: `0x${"cd".repeat(65)}`,
      }),
    digest: z
      .string()
      .nullable()
      .openapi({ example: `0x${"ab".repeat(32)}` }),
    signer: z
      .string()
      .nullable()
      .openapi({ example: `0x${"12".repeat(20)}` }),
  })
  .openapi("GateAnswer", {
    description:
      "The gate's decision with the signed attestation it was made on, so the caller can verify it (SPEC §5, §7). Numbers as decimal strings; the attestation fields are null when there is none.",
  });

type GateAnswerJson = z.infer<typeof GateAnswer>;

/** The gate's JSON answer: the decision, the criteria applied and the signed attestation it rests on. */
export function gateAnswerJson(
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
