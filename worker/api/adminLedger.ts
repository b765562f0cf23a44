import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { privateNonInclusion } from "../ledger/attestedProof.js";
import {
  type LedgerIntakeOptions,
  ledgerStatus,
  ledgerTarget,
  putLedger,
  storedTreeObject,
  uploadShape,
} from "../ledger/ledgerIntake.js";
import { ADMIN_ROUTE, adminErrors, bodyTimeoutError } from "./adminRoute.js";
import type { AppEnv } from "./context.js";
import { knownIssuer } from "./issuer.js";
import {
  answerLedgerError,
  bodyErrors,
  bodyFormat,
  LedgerBody,
  LedgerParams,
  ShardParams,
  statusUrl,
  UploadQuery,
  uploadBody,
} from "./ledgerRequest.js";
import { parameterHook } from "./openapi.js";
import { CommitmentParam, errorResponse, IssuerParams, PrivateNonInclusionProof } from "./schemas.js";

export type AdminLedgerOptions = LedgerIntakeOptions;

const json = (schema: z.ZodType, description: string) => ({ description, content: { "application/json": { schema } } });
const Uploaded = z
  .object({
    ledgerId: z.string(),
    status: z.string(),
    asOf: z.number(),
    units: z.string(),
    users: z.number(),
    statusUrl: z.string(),
  })
  .passthrough()
  .openapi("LedgerUploaded");
const LedgerState = z
  .object({ ledgerId: z.string(), issuer: z.string(), status: z.string(), users: z.number(), statusUrl: z.string() })
  .passthrough()
  .openapi({
    description:
      "Status, build progress, root once built, row errors of a failed ledger, and `upload` for a multi-part upload still receiving parts.",
  });
const UploadShape = z
  .object({
    issuer: z.string(),
    assets: z.array(z.object({ id: z.string(), decimals: z.number() })),
    units: z.array(z.string()),
    defaultUnits: z.string(),
  })
  .openapi("LedgerUploadShape");
const notComplete = errorResponse(
  "NOT_FOUND: the issuer has no complete ledger of that id, or the object is not stored.",
);

/**
 * Ledger upload, status and stored trees on the admin sub-app (workflows:
 * worker/ledger/ledgerIntake.ts). `PUT …/ledger` streams and validates the
 * body; a ledger of at most `syncRowLimit` rows is built in the request (201),
 * a larger one is spooled to R2 and built by the queue consumer (202).
 */
export function createAdminLedger(options: AdminLedgerOptions = {}): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });
  app.onError(answerLedgerError);

  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "put",
      path: "/v1/admin/issuers/{issuer}/ledger",
      middleware: [knownIssuer] as const,
      summary: "Upload the liabilities ledger",
      description:
        "CSV or NDJSON user ledger (SPEC §2); small ledgers are built in the request (201), large ones by a queue consumer (202).",
      request: { params: IssuerParams, query: UploadQuery, body: LedgerBody },
      responses: {
        201: json(
          Uploaded,
          "Built (`complete`, or `superseded` when a ledger at least as new completed meanwhile): with `root` and `rootSums`.",
        ),
        202: json(Uploaded, 'Queued: `status: "building"`; follow `statusUrl`.'),
        409: errorResponse(
          "CONFLICT: the issuer has no user ledger configured, or asOf is in the future or not newer than a ledger of the issuer (the message names both times).",
        ),
        422: errorResponse("LEDGER_INVALID: the rows named in the error are malformed; nothing was stored."),
        ...bodyErrors,
        ...bodyTimeoutError,
        ...adminErrors,
      },
    }),
    async (c) => {
      const { units, format, asOf } = c.req.valid("query");
      const upload = {
        format: bodyFormat(c, format),
        units: units ?? "decimal",
        ...(asOf === undefined ? {} : { asOf }),
        ...uploadBody(c),
      };
      const result = await putLedger(c.env, ledgerTarget(c.var.issuer), upload, options);
      const answer = { ...result, statusUrl: statusUrl(c, c.var.issuer.id, result.ledgerId) };
      return result.status === "building" ? c.json(answer, 202) : c.json(answer, 201);
    },
  );

  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "get",
      path: "/v1/admin/issuers/{issuer}/ledger",
      middleware: [knownIssuer] as const,
      summary: "What a ledger upload must look like",
      description: "The issuer's ledger assets in column order, each with the decimals its amounts are written in.",
      request: { params: IssuerParams },
      responses: {
        200: json(UploadShape, "The ledger's assets."),
        409: errorResponse("CONFLICT: the issuer has no user ledger configured."),
        ...adminErrors,
      },
    }),
    (c) => c.json(uploadShape(ledgerTarget(c.var.issuer)), 200),
  );

  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "get",
      path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}",
      summary: "Ledger build status",
      description:
        "Status, progress of the build, and for a multi-part upload still receiving parts `upload: { partsReceived, parts, units }`.",
      request: { params: LedgerParams },
      responses: { 200: json(LedgerState, "The ledger's status."), ...adminErrors },
    }),
    async (c) => {
      const { issuer, ledgerId } = c.req.valid("param");
      const status = await ledgerStatus(c.env, issuer, ledgerId);
      return c.json({ ...status, statusUrl: statusUrl(c, status.issuer, status.ledgerId) }, 200);
    },
  );

  // The stored tree of a complete ledger, for audits and re-computation: its manifest, and shard objects as stored.
  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "get",
      path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}/tree/manifest",
      summary: "Stored tree manifest",
      description:
        "The manifest of a complete ledger's stored tree (sizes, per-level node counts, root, shard layout), as stored.",
      request: { params: LedgerParams },
      responses: { 200: json(z.object({}).passthrough(), "The manifest."), ...adminErrors, 404: notComplete },
    }),
    async (c) => {
      const { issuer, ledgerId } = c.req.valid("param");
      const manifest = await storedTreeObject(c.env, issuer, ledgerId);
      // The stored bytes as they are (the route's JSON schema documents them; the typed answer would re-encode them).
      return new Response(manifest.body, {
        headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
      }) as unknown as never;
    },
  );
  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "get",
      path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}/tree/shards/{shard}",
      summary: "Stored tree shard",
      description:
        "One shard object of a complete ledger's stored tree, as stored (leaves and their subtree, SPEC §2 nodes).",
      request: { params: ShardParams },
      responses: {
        200: {
          description: "The shard's bytes.",
          content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
        },
        ...adminErrors,
        404: notComplete,
      },
    }),
    async (c) => {
      const { issuer, ledgerId, shard } = c.req.valid("param");
      const object = await storedTreeObject(c.env, issuer, ledgerId, shard);
      return new Response(object.body, {
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Length": String(object.size),
          "Cache-Control": "no-store",
        },
      });
    },
  );

  // A private ledger's absence proof, for the issuer to hand to the user who asked (never public: attestedProof.ts says why).
  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "get",
      path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}/non-inclusion/{commitment}",
      summary: "Private non-inclusion proof",
      description:
        "The SPEC §11 proof that a commitment is not a leaf of a built private ledger. The public proof route does not serve it, because its neighbours' commitments would fetch their balances; give it only to the user whose commitment it is (`solvent verify --proof FILE` checks it offline). 409 when the ledger is plain or the commitment is a leaf.",
      request: { params: LedgerParams.extend({ commitment: CommitmentParam }) },
      responses: {
        200: json(PrivateNonInclusionProof, "The proof."),
        ...adminErrors,
        404: notComplete,
        409: errorResponse(
          "CONFLICT: the ledger is plain (its public route proves absence), or the commitment is a leaf.",
        ),
      },
    }),
    async (c) => {
      const { issuer, ledgerId, commitment } = c.req.valid("param");
      c.header("Cache-Control", "no-store");
      return c.json(await privateNonInclusion(c.env, issuer, ledgerId, commitment), 200);
    },
  );

  return app;
}

/** The routes with the default limits. */
export const adminLedger = createAdminLedger();
