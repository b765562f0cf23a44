import { z } from "@hono/zod-openapi";
import { attestationToJson } from "../../core/attestation.js";
import { FLAGS } from "../../core/flags.js";
import { whyNotDecimal as describeNonDecimal, UINT64_MAX } from "../../core/numbers.js";
import type { StoredAttestation } from "../storage/attestationStore.js";

/**
 * Shared zod schemas of the public API (SPEC §10): they validate requests and
 * are the source of the OpenAPI document at /openapi.json.
 */

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const POSITIVE_DECIMAL = /^[1-9][0-9]*$/;
const BYTES32 = /^0x[0-9a-f]{64}$/;

/** Says, in one phrase, why a query or path value is not an unsigned decimal integer. */
function whyNotDecimal(text: unknown): string {
  if (typeof text !== "string") return "must be given once, as a decimal integer";
  return describeNonDecimal(text);
}

/**
 * A request parameter holding an unsigned decimal integer in [min, max]
 * (SPEC §1 form: no sign, no leading zeros, no exponent), parsed to a bigint.
 */
export function decimalParam(options: { min: bigint; max: bigint }) {
  const { min, max } = options;
  const maxDigits = max.toString().length;
  return (
    z
      .string({ error: (issue) => whyNotDecimal(issue.input) })
      .regex(min >= 1n ? POSITIVE_DECIMAL : DECIMAL, {
        error: (issue) => (issue.input === "0" ? `must be at least ${min}` : whyNotDecimal(issue.input)),
      })
      // Longer than max's digits means above max; BigInt never sees megabytes of digits.
      .refine((s) => !DECIMAL.test(s) || s.length > maxDigits || BigInt(s) >= min, { error: `must be at least ${min}` })
      .refine((s) => !DECIMAL.test(s) || (s.length <= maxDigits && BigInt(s) <= max), {
        error: `must be at most ${max}`,
      })
      .transform((s) => BigInt(s))
      .openapi({ type: "string", pattern: (min >= 1n ? POSITIVE_DECIMAL : DECIMAL).source })
  );
}

export const IssuerParam = z.string().openapi({
  param: { name: "issuer", in: "path" },
  description: "The issuer id from the configuration (see `GET /v1/issuers`).",
  example: "demo-stable",
});

export const SequenceParam = decimalParam({ min: 1n, max: UINT64_MAX }).openapi({
  param: { name: "sequence", in: "path" },
  description: "Attestation sequence: a decimal integer from 1 to 2^64 - 1, no leading zeros.",
  example: "1",
});

export const IssuerParams = z.object({ issuer: IssuerParam });
export const IssuerSequenceParams = z.object({ issuer: IssuerParam, sequence: SequenceParam });

// ---- response bodies ------------------------------------------------------

const decimalString = (description: string, example: string) =>
  z.string().regex(DECIMAL).openapi({ description, example });
const bytes32 = (description: string) =>
  z
    .string()
    .regex(BYTES32)
    .openapi({ description, example: `0x${"ab".repeat(32)}` });

export const ErrorBody = z
  .object({
    error: z
      .object({
        code: z.string().openapi({
          description: "Stable machine code, e.g. INVALID_PARAMETER, UNKNOWN_ISSUER, NOT_FOUND, RATE_LIMITED.",
          example: "INVALID_PARAMETER",
        }),
        message: z.string().openapi({
          description: "A human sentence; for INVALID_PARAMETER it starts with the parameter's name.",
          example: "sequence has leading zeros",
        }),
        field: z.string().optional().openapi({
          description:
            "What in the request is wrong: a path or query parameter, a header or a body field (INVALID_PARAMETER, INVALID_BODY …).",
          example: "sequence",
        }),
      })
      .passthrough(),
  })
  .openapi("Error", { description: "SPEC §10 error body, answered with a 4xx or 5xx status." });

export const AttestationJson = z
  .object({
    issuer: bytes32("keccak256(utf8(issuerId))"),
    sequence: decimalString("1, 2, 3 … per issuer, no gaps", "42"),
    previous: bytes32("EIP-712 digest of attestation sequence-1; zero for sequence 1"),
    observedAt: decimalString("unix seconds when the data was read", "1767225600"),
    validUntil: decimalString("unix seconds after which the attestation is stale", "1767229200"),
    reservesUsd: decimalString("counted reserves, usd18", "1250000000000000000000000"),
    onchainReservesUsd: decimalString("status 0 reserves, usd18", "1250000000000000000000000"),
    offchainReservesUsd: decimalString("status 2 reserves, usd18", "0"),
    liabilitiesUsd: decimalString("liabilities, usd18", "1000000000000000000000000"),
    ratioBps: decimalString("floor(reservesUsd * 10000 / liabilitiesUsd), capped at 4294967295", "12500"),
    reservesRoot: bytes32("SPEC §3 reserves line-item root"),
    liabilitiesRoot: bytes32("SPEC §2 liabilities sum-tree root; zero when liabilities are on-chain supply only"),
    flags: decimalString("SPEC §6 flag bits (uint64)", "0"),
    reportHash: bytes32("keccak256 of the SPEC §4 report bytes as served"),
  })
  .openapi("Attestation", {
    description: "The SPEC §5 SolvencyAttestation fields by name; integers as decimal strings.",
  });

const signature = z
  .string()
  .regex(/^0x[0-9a-f]{130}$/)
  .openapi({
    description: "65-byte secp256k1 signature (r, s, v) over the EIP-712 digest",
    example: `0x${"cd".repeat(65)}`,
  });
const address = z
  .string()
  .regex(/^0x[0-9a-f]{40}$/)
  .openapi({ description: "lowercase address", example: `0x${"12".repeat(20)}` });

export const SignedAttestation = z
  .object({
    attestation: AttestationJson,
    signature,
    digest: bytes32('EIP-712 digest of `attestation` (domain { name: "Solvent", version: "1" })'),
    signer: address.openapi({ description: "the key that signed; listed in /.well-known/solvent/keys.json" }),
    reportUrl: z.string().url().openapi({
      description: "where the SPEC §4 report bytes are served",
      example: "https://solvent.example/v1/issuers/demo-stable/reports/42",
    }),
  })
  .openapi("SignedAttestation", { description: "An attestation with everything needed to verify it offline." });

/** SPEC §10 attestation answer for one stored attestation. */
export function signedAttestationJson(stored: StoredAttestation, origin: string): z.infer<typeof SignedAttestation> {
  return {
    attestation: attestationToJson(stored.attestation),
    signature: stored.signature,
    digest: stored.digest,
    signer: stored.signer,
    reportUrl: `${origin}/v1/issuers/${encodeURIComponent(stored.issuerId)}/reports/${stored.attestation.sequence}`,
  };
}

const nullableDecimal = (description: string, example: string) =>
  z
    .string()
    .regex(DECIMAL)
    .nullable()
    .openapi({ description: `${description}; null before the first attestation`, example });

export const IssuerList = z
  .object({
    issuers: z.array(
      z.object({
        id: z.string().openapi({ example: "demo-stable" }),
        name: z.string().openapi({ example: "Demo Dollar" }),
        sequence: nullableDecimal("latest sequence", "42"),
        ratioBps: nullableDecimal("latest ratioBps", "12500"),
        flags: nullableDecimal("latest flags", "0"),
        observedAt: nullableDecimal("latest observedAt", "1767225600"),
      }),
    ),
  })
  .openapi("IssuerList");

export const AttestationPage = z
  .object({
    issuer: z.string().openapi({ example: "demo-stable" }),
    attestations: z.array(SignedAttestation).openapi({ description: "newest first" }),
    nextBefore: z.string().regex(DECIMAL).nullable().openapi({
      description: "pass as `before` for the next (older) page; null on the last page",
      example: "22",
    }),
  })
  .openapi("AttestationPage");

const usdAmounts = z.array(z.string().regex(DECIMAL));
export const InclusionProof = z
  .object({
    version: z.literal(1),
    assets: z.array(z.string()).openapi({ example: ["USD", "ETH"] }),
    root: bytes32("liabilities root; equals the attestation's liabilitiesRoot"),
    rootSums: usdAmounts.openapi({ description: "per-asset totals of the tree", example: ["1000000000", "5000"] }),
    leafIndex: z.number().int().nonnegative().openapi({ example: 17 }),
    balances: usdAmounts.openapi({
      description: "the user's balances, per asset, in base units",
      example: ["1500000", "0"],
    }),
    path: z
      .array(z.object({ hash: bytes32("sibling hash"), sums: usdAmounts }))
      .openapi({ description: "siblings from the leaf up to the root" }),
  })
  .openapi("InclusionProof", { description: "SPEC §2 inclusion proof of one user commitment." });

const NeighbourProof = z
  .object({
    leafIndex: z.number().int().nonnegative(),
    commitment: bytes32("the neighbour's own commitment"),
    balances: usdAmounts.openapi({
      description: "the neighbour's balances: with its commitment, the preimage of its leaf hash",
    }),
    leafHash: bytes32("H(0x00 || commitment || enc128(balances)); recompute it"),
    path: z.array(z.object({ hash: bytes32("sibling hash"), sums: usdAmounts })),
  })
  .openapi("NeighbourProof", {
    description: "SPEC §2.1: a leaf adjacent to the absent commitment, with its path to the root.",
  });

export const NonInclusionProof = z
  .object({
    version: z.literal(1),
    kind: z.literal("non-inclusion"),
    commitment: bytes32("the commitment shown absent"),
    assets: z.array(z.string()),
    root: bytes32("liabilities root; equals the attestation's liabilitiesRoot"),
    rootSums: usdAmounts,
    leafCount: z
      .number()
      .int()
      .positive()
      .openapi({ description: "real leaves; equals the report's liabilities.ledger.leafCount" }),
    left: NeighbourProof.nullable().openapi({
      description: "the greatest commitment below; null when the commitment sorts first",
    }),
    right: NeighbourProof.nullable().openapi({
      description: "the smallest commitment above; null when the commitment sorts last",
    }),
  })
  .openapi("NonInclusionProof", {
    description: "SPEC §2.1 proof that a commitment is not a leaf of a ledger in commitment order (docs/spec.md).",
  });

const scalars = (description: string) =>
  z.array(bytes32("32 bytes little-endian, below the group order")).openapi({ description });
const points = (description: string) => z.array(bytes32("canonical ristretto255 encoding")).openapi({ description });
const privateAssets = z.array(z.string()).openapi({ example: ["USDC", "BTC"] });
const privatePath = z
  .array(
    z.object({ hash: bytes32("sibling hash"), commitments: points("the sibling's Pedersen commitment per asset") }),
  )
  .openapi({ description: "siblings from the leaf up to the root: hashes and commitments only, never a value" });

export const PrivateInclusionProof = z
  .object({
    version: z.literal(1),
    scheme: z.literal("pedersen-ristretto255-v2"),
    assets: privateAssets,
    unitDecimals: z
      .array(z.number().int().nonnegative())
      .openapi({ description: "per asset, the decimals of the committed unit", example: [2, 8] }),
    root: bytes32("liabilities root; equals the attestation's liabilitiesRoot"),
    rootCommitments: points("the root's Pedersen commitment per asset"),
    totals: z
      .array(z.string().regex(DECIMAL))
      .openapi({ description: "per asset, the total in committed units (the root commitment's value)" }),
    totalBlindings: scalars("per asset, the root commitment's blinding"),
    leafIndex: z.number().int().nonnegative().openapi({ example: 17 }),
    values: z
      .array(z.string().regex(DECIMAL))
      .openapi({ description: "the user's own values per asset, in committed units", example: ["150", "0"] }),
    blindings: scalars("the user's own blinding per asset"),
    path: privatePath,
    rangeProofs: z.array(z.string().regex(/^0x([0-9a-f]{2})+$/)).openapi({
      description:
        "aggregated Bulletproofs that every sibling commitment (level by level, asset by asset) holds a value in [0, 2^64), in chunks of 16, 8, 4, 2, 1",
    }),
  })
  .openapi("PrivateInclusionProof", {
    description:
      "SPEC §11 inclusion proof in a private ledger: the user's own opening, every sibling's commitments and hash, range proofs. No other balance or partial sum. Made on the first request and stored: every answer for a leaf is the same bytes.",
  });

const PrivateNeighbour = z
  .object({
    leafIndex: z.number().int().nonnegative(),
    commitment: bytes32("the neighbour's user commitment"),
    leafCommitments: points("the neighbour leaf's Pedersen commitments (never their openings)"),
    path: privatePath,
  })
  .openapi("PrivateNeighbour", {
    description: "SPEC §11: a leaf adjacent to the absent commitment, shown by its commitments and path only.",
  });

export const PrivateNonInclusionProof = z
  .object({
    version: z.literal(1),
    scheme: z.literal("pedersen-ristretto255-v2"),
    assets: privateAssets,
    root: bytes32("liabilities root; equals the attestation's liabilitiesRoot"),
    rootCommitments: points("the root's Pedersen commitment per asset"),
    left: PrivateNeighbour.optional().openapi({
      description: "the greatest leaf commitment below; absent when the commitment sorts first",
    }),
    right: PrivateNeighbour.optional().openapi({
      description: "the smallest leaf commitment above; absent when the commitment sorts last",
    }),
  })
  .openapi("PrivateNonInclusionProof", {
    description:
      "SPEC §11 proof that a commitment is not a leaf of a private ledger (leaves include padding, so the edges are leaf 0 and leaf 2^depth - 1).",
  });

export const KeysDocument = z
  .object({
    keys: z.array(
      z.object({
        address: address,
        validFrom: z.number().int().openapi({ example: 1767225600 }),
        validUntil: z
          .number()
          .int()
          .nullable()
          .openapi({ description: "null while the key is current", example: null }),
        role: z.literal("receipts").optional().openapi({
          description:
            'absent for attestation keys; "receipts" for a key that signs one issuer\'s SPEC §12 balance receipts',
        }),
        issuer: z.string().optional().openapi({ description: "the issuer whose receipts a receipts key signs" }),
      }),
    ),
  })
  .openapi("KeysDocument", { description: "SPEC §7 keys document; keys are never deleted." });

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/** A response's Cache-Control header as the document shows it. */
export const cacheHeader = (value: string) => ({
  "Cache-Control": { schema: { type: "string" as const, example: value }, description: value },
});

export const FLAG_NAMES = FLAGS.map((f) => f.name) as [string, ...string[]];

// ---- responses shared by the route definitions -----------------------------

export function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: ErrorBody } } };
}

/** The answer of worker/api/rateLimit.ts, with the headers a client acts on. */
const rateLimited = {
  ...errorResponse(
    "RATE_LIMITED: this address sent more requests in this route group than its budget for the current 10 s window " +
      "(gate and feed: 600; proofs: 200; every other read: 300; per Cloudflare location). Answers served from the edge cache are never counted. " +
      "The body adds `group`, `limit`, `periodSeconds` and `retryAfterSeconds`.",
  ),
  headers: {
    "Retry-After": {
      schema: { type: "integer" as const, minimum: 1, maximum: 10, example: 4 },
      description: "Seconds until the window ends and a request is admitted again (1 to 10).",
    },
    "RateLimit-Policy": {
      schema: { type: "string" as const, example: '"reads";q=300;w=10' },
      description: "The policy that refused: group, requests per window, window in seconds.",
    },
  },
};

export const unknownIssuerOrMissing = errorResponse(
  "UNKNOWN_ISSUER (not configured here) or NOT_FOUND (no such attestation yet).",
);

export const commonErrors = {
  400: errorResponse("INVALID_PARAMETER: a path or query parameter is malformed; the message and `field` name it."),
  429: rateLimited,
  500: errorResponse("INTERNAL: the publisher failed; nothing about the attestation is implied."),
} as const;
