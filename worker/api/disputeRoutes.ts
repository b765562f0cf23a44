import { createRoute, z } from "@hono/zod-openapi";
import { checkDispute, type DisputeBundleJson, MAX_DISPUTE_BYTES, parseDisputeBundle } from "../../core/dispute.js";
import { SolventError } from "../../core/errors.js";
import { verifyReceipt } from "../../core/receipt.js";
import { raiseDisputeAlert } from "../disputes/disputeAlert.js";
import { disputePage, insertDispute } from "../disputes/disputeStore.js";
import { publishedKeysDocument } from "../disputes/receiptKeys.js";
import { attestationBySequence } from "../storage/attestationStore.js";
import { ApiError } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { jsonBody } from "./jsonBody.js";
import { NO_STORE, publicApi, SHORT_CACHE } from "./openapi.js";
import {
  commonErrors,
  DEFAULT_PAGE_LIMIT,
  decimalParam,
  errorResponse,
  IssuerParams,
  MAX_PAGE_LIMIT,
} from "./schemas.js";

const BundleBody = z
  .object({
    version: z.literal(1),
    receipt: z.unknown().openapi({ description: "the signed SPEC §12 receipt `{ receipt, signature }`" }),
    proof: z.unknown().openapi({
      description:
        "the publisher's answer for the receipt's commitment: a §2.1 non-inclusion proof or a §2 inclusion proof",
    }),
    attestation: z
      .unknown()
      .openapi({ description: "`{ attestation, signature }` of the ledger whose asOf is the receipt's" }),
    report: z.string().openapi({ description: "that attestation's report, its exact bytes as UTF-8 text" }),
  })
  .openapi("DisputeBundle", {
    description: "A SPEC §12 dispute bundle (exact form: docs/spec.md); `solvent dispute make` builds one.",
  });

const bundleBody = jsonBody(BundleBody, {
  maxBytes: MAX_DISPUTE_BYTES,
  what: "a dispute bundle",
  shape: "{ version, receipt, proof, attestation, report } (solvent dispute make builds it)",
  describe: (json) => {
    try {
      parseDisputeBundle(json);
    } catch (e) {
      if (e instanceof SolventError) return e.message;
    }
    return "the body is not a dispute bundle { version, receipt, proof, attestation, report } (solvent dispute make builds it)";
  },
});

const Difference = z.object({ asset: z.string(), receipt: z.string(), ledger: z.string() });
const DisputeSummary = z
  .object({
    id: z.string().openapi({ description: "the receipt's EIP-712 digest: one dispute per receipt" }),
    issuer: z.string(),
    commitment: z.string(),
    asOf: z.string().openapi({ description: "the disputed ledger's asOf (the receipt's)" }),
    kind: z.enum(["absent", "balance-differs"]),
    sequence: z.string().openapi({ description: "the attestation whose answer the bundle carries" }),
    attestationDigest: z.string(),
    ledgerId: z.string(),
    receiptSigner: z.string(),
    attestationSigner: z.string(),
    differences: z.array(Difference),
  })
  .openapi("DisputeSummary");
const StoredDispute = z
  .object({
    summary: DisputeSummary,
    bundle: z.unknown().openapi({ description: "the bundle as filed: check it offline with `solvent dispute verify`" }),
    filedAt: z.number().int(),
  })
  .openapi("StoredDispute");

const ListQuery = z.object({
  after: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,11})\.0x[0-9a-f]{64}$/, {
      error: "must be a previous page's nextAfter (<filedAt>.<dispute id>)",
    })
    .optional()
    .openapi({
      param: { name: "after", in: "query" },
      description: "Only disputes after this one (the previous page's `nextAfter`).",
    }),
  limit: decimalParam({ min: 1n, max: BigInt(MAX_PAGE_LIMIT) })
    .optional()
    .openapi({
      param: { name: "limit", in: "query" },
      description: `Page size, 1 to ${MAX_PAGE_LIMIT}. Default ${DEFAULT_PAGE_LIMIT}.`,
      example: "20",
    }),
});

/**
 * SPEC §12 dispute log: `POST /v1/issuers/{issuer}/disputes` files a bundle
 * (checked with core's checkDispute, stored append-only when valid) and
 * `GET` lists the stored ones. Rate-limited with the proofs group. Mounted at `/`.
 */
export const disputeRoutes = publicApi();

disputeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/issuers/{issuer}/disputes",
    middleware: [bundleBody.limit, knownIssuer, bundleBody.read] as const,
    tags: ["proofs"],
    summary: "File a dispute",
    description:
      "A SPEC §12 dispute: the issuer's signed balance receipt with the publisher's own answer for its commitment (a non-inclusion proof, or an inclusion proof " +
      "with other balances) and the attestation and report of the ledger of the receipt's asOf. Checked in order of cost (size, shape, the receipt's signature " +
      "against the configured receipts keys, then the rest); a valid one is stored forever, raises DISPUTED on the issuer's next attestations until a ledger " +
      `with a newer asOf is attested, and alerts the operator. At most ${MAX_DISPUTE_BYTES} bytes.`,
    request: { params: IssuerParams, body: bundleBody.request },
    responses: {
      201: {
        description: "Stored: the dispute's summary.",
        content: { "application/json": { schema: StoredDispute } },
      },
      200: {
        description: "Already stored for this receipt: the stored dispute, unchanged.",
        content: { "application/json": { schema: StoredDispute } },
      },
      400: errorResponse("INVALID_BODY: the bundle is not JSON or misses a part; `field` names it."),
      404: errorResponse("UNKNOWN_ISSUER."),
      413: errorResponse("PAYLOAD_TOO_LARGE."),
      415: errorResponse("UNSUPPORTED_MEDIA_TYPE."),
      422: errorResponse(
        "DISPUTE_INVALID: the bundle does not prove a dispute; `step` names the failed check and `message` why. Nothing is stored.",
      ),
      429: commonErrors[429],
      500: commonErrors[500],
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    c.header("Cache-Control", NO_STORE);
    if (!issuer.liabilities.ledger)
      throw new ApiError(
        "DISPUTE_INVALID",
        `issuer "${issuer.id}" publishes no user ledger: there is nothing to dispute`,
        { step: "report" },
      );
    const text = await c.req.text();
    let bundle: DisputeBundleJson;
    try {
      bundle = parseDisputeBundle(JSON.parse(text));
    } catch (e) {
      if (e instanceof SolventError) throw new ApiError("INVALID_BODY", e.message, { field: e.record });
      throw e;
    }
    // Cheap first: the receipt's signature against the published receipts keys (one small D1 read), before any ledger is read.
    const keys = await publishedKeysDocument(c.env.DB, c.var.config);
    const receiptKeys = keys.keys.filter((k) => k.role === "receipts" && k.issuer === issuer.id);
    if (receiptKeys.length === 0) {
      throw new ApiError(
        "DISPUTE_INVALID",
        `issuer "${issuer.id}" has never published a receipts key, so no receipt of it can be checked`,
        { step: "receipt" },
      );
    }
    const receipt = await verifyReceipt(bundle.receipt, { keys: receiptKeys });
    if (!receipt.ok) throw new ApiError("DISPUTE_INVALID", receipt.reason, { step: "receipt", field: receipt.record });
    if (receipt.receipt.issuer !== issuer.id) {
      throw new ApiError(
        "DISPUTE_INVALID",
        `receipt.receipt.issuer: the receipt is for "${receipt.receipt.issuer.slice(0, 80)}", not "${issuer.id}"`,
        { step: "receipt" },
      );
    }
    const result = await checkDispute({
      bundle,
      keys,
      issuer: issuer.id,
    });
    if (!result.valid) throw new ApiError("DISPUTE_INVALID", result.failed.reason, { step: result.failed.step });
    const { dispute } = result;
    const stored = await attestationBySequence(c.env.DB, issuer.id, dispute.sequence);
    if (stored === null || stored.digest.toLowerCase() !== dispute.attestationDigest.toLowerCase()) {
      throw new ApiError(
        "DISPUTE_INVALID",
        `attestation ${dispute.sequence} of the bundle is not the one this publisher stored for that sequence`,
        { step: "attestation" },
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const { created, stored: row } = await insertDispute(c.env.DB, { dispute, bundleText: text, filedAt: now });
    if (created) await raiseDisputeAlert(c.env, issuer, dispute, now);
    return c.json(row as never, created ? 201 : 200);
  },
);

disputeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/disputes",
    middleware: [knownIssuer] as const,
    tags: ["proofs"],
    summary: "Dispute log",
    description:
      "The valid SPEC §12 disputes filed against the issuer's ledgers, oldest filing first, each with the bundle as filed so anyone can re-check it " +
      "offline (`solvent dispute verify --bundle <entry> --publisher <url>`). Disputes are never deleted. Follow `nextAfter` for later pages.",
    request: { params: IssuerParams, query: ListQuery },
    responses: {
      200: {
        description: "One page.",
        headers: { "Cache-Control": { schema: { type: "string", example: SHORT_CACHE }, description: SHORT_CACHE } },
        content: {
          "application/json": {
            schema: z
              .object({ issuer: z.string(), disputes: z.array(StoredDispute), nextAfter: z.string().nullable() })
              .openapi("DisputePage"),
          },
        },
      },
      404: errorResponse("UNKNOWN_ISSUER."),
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    const { after, limit } = c.req.valid("query");
    const cursor =
      after === undefined
        ? undefined
        : { filedAt: Number(after.slice(0, after.indexOf("."))), id: after.slice(after.indexOf(".") + 1) };
    const page = await disputePage(c.env.DB, issuer.id, {
      limit: limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit),
      ...(cursor ? { after: cursor } : {}),
    });
    c.header("Cache-Control", SHORT_CACHE);
    return c.json({ issuer: issuer.id, disputes: page.disputes, nextAfter: page.nextAfter } as never, 200);
  },
);
