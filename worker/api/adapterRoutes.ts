import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Attestation } from "../../core/attestation.js";
import { decodeFlags } from "../../core/flags.js";
import { latestAttestation } from "../storage/attestationStore.js";
import type { AppEnv } from "./context.js";
import { ApiError, BodyTimeoutError } from "./errors.js";
import { FEED_DECIMALS, feedRound } from "./feedRoutes.js";
import { NO_STORE, requestOrigin } from "./openapi.js";
import { errorResponse, SignedAttestation, signedAttestationJson } from "./schemas.js";

/**
 * A Chainlink external adapter (`POST /v1/adapters/chainlink`): a node
 * operator's bridge asks for an issuer's reserves or ratio and gets the
 * standard adapter answer, with the signed attestation beside the result so
 * the number can be checked before it goes on-chain. Errors keep the adapter
 * shape too (`status: "errored"`, `statusCode`, `error: { name, message }`),
 * since the node reads that body, not the SPEC §10 error.
 */
export const ADAPTER_BODY_LIMIT = 4096;
/** The ratio's result is ratioBps: a fraction with 4 decimals (10000 = 100%). */
export const RATIO_DECIMALS = 4;
/** Chainlink's adapter framework answers jobRunID "1" when the request has no id. */
const DEFAULT_JOB_RUN_ID = "1";

const FIELDS = ["reserves", "ratio"] as const;

const AdapterRequest = z
  .object({
    id: z
      .union([z.string().max(200), z.number().int()])
      .optional()
      .openapi({ description: 'the job run id, echoed as jobRunID (default "1")', example: "0f1e2d3c-demo-run" }),
    data: z
      .object({
        issuer: z.string().min(1).max(200).openapi({ description: "the issuer id", example: "demo-stable" }),
        field: z.enum(FIELDS).openapi({
          description: `reserves: reservesUsd at ${FEED_DECIMALS} decimals (USD), as GET /feed and ReserveFeed answer; ratio: ratioBps (${RATIO_DECIMALS} decimals, 10000 = 100%)`,
          example: "reserves",
        }),
      })
      .openapi({ description: "the adapter's parameters" }),
  })
  .openapi("ChainlinkAdapterRequest", { description: "The standard Chainlink external adapter request." });

const integer = z.string().regex(/^(0|[1-9][0-9]*)$/);

const AdapterData = SignedAttestation.extend({
  result: integer.openapi({
    description: "the value the node reports: see field and decimals",
    example: "125000000000000",
  }),
  field: z.enum(FIELDS),
  decimals: z
    .number()
    .int()
    .openapi({
      description: `${FEED_DECIMALS} for reserves (USD), ${RATIO_DECIMALS} for ratio`,
      example: FEED_DECIMALS,
    }),
  issuer: z.string().openapi({ example: "demo-stable" }),
  sequence: integer.openapi({ description: "the attestation's sequence (the feed's roundId)", example: "42" }),
  observedAt: integer.openapi({
    description: "unix seconds: when the numbers were read (the feed's updatedAt)",
    example: "1767225600",
  }),
  validUntil: integer.openapi({
    description: "unix seconds after which the attestation must not be used",
    example: "1767226200",
  }),
  reservesUsd: integer.openapi({
    description: "counted reserves, usd18 exactly as signed",
    example: "1250000000000000000000000",
  }),
  ratioBps: integer.openapi({ example: "12500" }),
  flags: z.array(z.string()).openapi({ description: "SPEC §6 flag names raised in the attestation", example: [] }),
}).openapi("ChainlinkAdapterData", {
  description:
    "The result with its field and decimals, the attestation's key numbers, and the signed attestation itself (verify it as GET /attestations/latest).",
});

const AdapterResponse = z
  .object({
    jobRunID: z.string().openapi({ example: "0f1e2d3c-demo-run" }),
    statusCode: z.literal(200),
    status: z.literal("success"),
    data: AdapterData,
    result: integer.openapi({ description: "equal to data.result", example: "125000000000000" }),
  })
  .openapi("ChainlinkAdapterResponse");

const ADAPTER_ERRORS = [
  "INVALID_REQUEST",
  "PAYLOAD_TOO_LARGE",
  "REQUEST_TIMEOUT",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNKNOWN_ISSUER",
  "NO_ATTESTATION",
  "ATTESTATION_EXPIRED",
  "INTERNAL",
] as const;
type AdapterErrorName = (typeof ADAPTER_ERRORS)[number];

const AdapterErrorBody = z
  .object({
    jobRunID: z.string().openapi({ example: "0f1e2d3c-demo-run" }),
    status: z.literal("errored"),
    statusCode: z.number().int().openapi({ description: "equal to the HTTP status", example: 404 }),
    error: z.object({
      name: z.enum(ADAPTER_ERRORS).openapi({ example: "UNKNOWN_ISSUER" }),
      message: z.string().openapi({ example: 'issuer "nope" is not published here' }),
    }),
  })
  .openapi("ChainlinkAdapterError", {
    description: "The adapter framework's error shape; the HTTP status equals statusCode.",
  });

const errorAnswer = (description: string) => ({
  description,
  content: { "application/json": { schema: AdapterErrorBody } },
});

class AdapterError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly errorName: AdapterErrorName,
    message: string,
  ) {
    super(message);
  }
}

/** The request's id, when its body is JSON with one; the error answer echoes it. */
async function jobRunIdOf(c: Context<AppEnv>): Promise<string> {
  try {
    const id = ((await c.req.json()) as { id?: unknown } | null)?.id;
    return typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id))
      ? String(id).slice(0, 200)
      : DEFAULT_JOB_RUN_ID;
  } catch {
    return DEFAULT_JOB_RUN_ID;
  }
}

async function adapterError(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  name: AdapterErrorName,
  message: string,
): Promise<Response> {
  c.header("Cache-Control", NO_STORE);
  // An oversized or stalled body is never read, not even for its id.
  const jobRunID =
    name === "PAYLOAD_TOO_LARGE" || name === "REQUEST_TIMEOUT" ? DEFAULT_JOB_RUN_ID : await jobRunIdOf(c);
  return c.json({ jobRunID, status: "errored" as const, statusCode: status, error: { name, message } }, status);
}

/** reserves at the feed's 8 decimals (exactly GET /feed's answer), or the ratio in bps. */
function resultOf(a: Attestation, field: (typeof FIELDS)[number]): string {
  return field === "reserves" ? feedRound(a).answer : a.ratioBps.toString();
}

export const adapterRoutes = new OpenAPIHono<AppEnv>({
  defaultHook: (result) => {
    if (result.success) return;
    const issue = result.error.issues[0];
    const path = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "(body)";
    throw new AdapterError(
      400,
      "INVALID_REQUEST",
      `${path}: ${issue?.message ?? "is invalid"}; send {"id": "<jobRunID>", "data": {"issuer": "<id>", "field": "reserves" | "ratio"}}`,
    );
  },
});

adapterRoutes.onError(async (err, c) => {
  if (err instanceof AdapterError) return adapterError(c, err.status, err.errorName, err.message);
  // Errors of the shared plumbing (a body that stalls: 408; any ApiError) keep their status, in the adapter's shape.
  if (err instanceof BodyTimeoutError) return adapterError(c, 408, "REQUEST_TIMEOUT", err.message);
  if (err instanceof ApiError)
    return adapterError(c, err.status, err.status < 500 ? "INVALID_REQUEST" : "INTERNAL", err.message);
  // hono's JSON validator refuses a body that does not parse
  if (err instanceof HTTPException && err.status === 400)
    return adapterError(c, 400, "INVALID_REQUEST", `the body is not valid JSON (${err.message})`);
  console.error("chainlink adapter", err);
  return adapterError(c, 500, "INTERNAL", "internal error");
});

// Only the adapter's own method: any other gets the app's 404, never these checks.
adapterRoutes.on(
  "POST",
  "/v1/adapters/chainlink",
  bodyLimit({
    maxSize: ADAPTER_BODY_LIMIT,
    onError: () => {
      throw new AdapterError(413, "PAYLOAD_TOO_LARGE", `an adapter request is at most ${ADAPTER_BODY_LIMIT} bytes`);
    },
  }),
  async (c, next) => {
    const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json")
      throw new AdapterError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
    await next();
  },
);

adapterRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/adapters/chainlink",
    tags: ["integration"],
    summary: "Chainlink external adapter",
    description:
      "For Chainlink node operators publishing an issuer's reserves in a Proof-of-Reserve feed. `field: reserves` answers the latest " +
      `attestation's reservesUsd at ${FEED_DECIMALS} decimals (floor(reservesUsd / 10^10), USD, exactly GET /feed's answer); ` +
      `\`field: ratio\` answers ratioBps (${RATIO_DECIMALS} decimals, 10000 = 100%; 4294967295 is SPEC §1's cap, which also stands for no liabilities at all, so a feed should read it as "fully covered", never as a measured ratio). \`data\` carries the signed attestation ` +
      "(attestation, signature, digest, signer, reportUrl) so the node can check the signature against /.well-known/solvent/keys.json. " +
      "An attestation past its validUntil is refused (503 ATTESTATION_EXPIRED) so that a stale number is never posted as a fresh round. Never cached.",
    request: { body: { required: true, content: { "application/json": { schema: AdapterRequest } } } },
    responses: {
      200: {
        description: "The result and the signed attestation it comes from.",
        content: { "application/json": { schema: AdapterResponse } },
      },
      400: errorAnswer(
        "INVALID_REQUEST: the body is not JSON, or data.issuer or data.field is missing or not one of reserves, ratio.",
      ),
      404: errorAnswer("UNKNOWN_ISSUER (not configured here) or NO_ATTESTATION (nothing published yet)."),
      413: errorAnswer(`PAYLOAD_TOO_LARGE: the body is over ${ADAPTER_BODY_LIMIT} bytes.`),
      415: errorAnswer("UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json."),
      429: errorResponse(
        "RATE_LIMITED (the SPEC §10 error body, like every public route): too many requests from this address; see Retry-After.",
      ),
      500: errorAnswer("INTERNAL: the publisher failed."),
      503: errorAnswer(
        "ATTESTATION_EXPIRED: the latest attestation is past its validUntil; the publisher is not publishing.",
      ),
    },
  }),
  async (c) => {
    const { id, data } = c.req.valid("json");
    const jobRunID = id === undefined ? DEFAULT_JOB_RUN_ID : String(id);
    const issuer = c.var.config.issuers.find((i) => i.id === data.issuer);
    if (!issuer)
      throw new AdapterError(404, "UNKNOWN_ISSUER", `issuer "${data.issuer.slice(0, 80)}" is not published here`);
    const stored = await latestAttestation(c.env.DB, issuer.id);
    if (!stored) throw new AdapterError(404, "NO_ATTESTATION", `issuer "${issuer.id}" has no attestation yet`);
    const a = stored.attestation;
    const now = BigInt(Math.floor(Date.now() / 1000));
    if (now > a.validUntil) {
      throw new AdapterError(
        503,
        "ATTESTATION_EXPIRED",
        `the latest attestation of "${issuer.id}" (#${a.sequence}) expired at ${a.validUntil}, ${now - a.validUntil} s ago; no fresh number to report`,
      );
    }
    const result = resultOf(a, data.field);
    c.header("Cache-Control", NO_STORE);
    return c.json(
      {
        jobRunID,
        statusCode: 200 as const,
        status: "success" as const,
        data: {
          result,
          field: data.field,
          decimals: data.field === "reserves" ? FEED_DECIMALS : RATIO_DECIMALS,
          issuer: issuer.id,
          sequence: a.sequence.toString(),
          observedAt: a.observedAt.toString(),
          validUntil: a.validUntil.toString(),
          reservesUsd: a.reservesUsd.toString(),
          ratioBps: a.ratioBps.toString(),
          flags: decodeFlags(a.flags),
          ...signedAttestationJson(stored, requestOrigin(c)),
        },
        result,
      },
      200,
    );
  },
);
